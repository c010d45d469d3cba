import pc from 'picocolors';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Writes `opsmate: <level>: message` lines to stderr above a level. The only logger in the CLI. */
export class Logger {
  level: LogLevel;
  readonly #stream: NodeJS.WritableStream;

  constructor(level: LogLevel = 'warn', stream: NodeJS.WritableStream = process.stderr) {
    this.level = level;
    this.#stream = stream;
  }

  debug(message: string): void {
    this.#write('debug', message);
  }
  info(message: string): void {
    this.#write('info', message);
  }
  warn(message: string): void {
    this.#write('warn', message);
  }
  error(message: string): void {
    this.#write('error', message);
  }

  #write(level: LogLevel, message: string): void {
    if (ORDER[level] < ORDER[this.level]) return;
    const label = level === 'error' ? pc.red(level) : level === 'warn' ? pc.yellow(level) : pc.dim(level);
    this.#stream.write(`opsmate: ${label}: ${message}\n`);
  }
}
