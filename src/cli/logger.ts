import { colorsFor, type Colors } from './terminal/terminal-style.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Writes `opsmate: <level>: message` lines to stderr above a level. The only logger in the CLI. */
export class Logger {
  level: LogLevel;
  readonly #stream: NodeJS.WritableStream;
  readonly #colors: Colors;

  constructor(
    level: LogLevel = 'warn',
    stream: NodeJS.WritableStream & { isTTY?: boolean } = process.stderr,
    env: NodeJS.ProcessEnv = process.env,
  ) {
    this.level = level;
    this.#stream = stream;
    // picocolors alone colours whenever CI is set, even into a pipe; colour only a terminal.
    this.#colors = colorsFor(stream, env);
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
    const colors = this.#colors;
    const label =
      level === 'error' ? colors.red(level) : level === 'warn' ? colors.yellow(level) : colors.dim(level);
    this.#stream.write(`opsmate: ${label}: ${message}\n`);
  }
}
