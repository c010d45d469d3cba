import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';

/** Why a terminal cannot be simulated here, or undefined when `script` (util-linux) is available. */
export function ptyMissingReason(): string | undefined {
  return existsSync('/usr/bin/script') ? undefined : '/usr/bin/script (util-linux) is not installed';
}

/**
 * A program run on a pseudo-terminal through util-linux `script`, so it sees a TTY on stdin and
 * stdout: typed bytes go to the terminal (\x03 is Ctrl-C, \x04 is Ctrl-D), and the screen text is
 * collected. Tests wait for text to appear rather than for time to pass.
 */
export class PtySession {
  readonly #child: ChildProcessWithoutNullStreams;
  #screen = '';
  #exit: Promise<number | null>;
  #waiters: Array<() => void> = [];

  constructor(argv: string[], options: { env: Record<string, string>; cwd?: string }) {
    // `exec`: no shell stays between script and the program, since a shell that saw Ctrl-C
    // reports 130 even when the program handled it and exited 0.
    const command = `exec ${argv.map((word) => `'${word.replaceAll("'", `'\\''`)}'`).join(' ')}`;
    this.#child = spawn('/usr/bin/script', ['-qfec', command, '/dev/null'], {
      env: { TERM: 'xterm', ...options.env },
      ...(options.cwd ? { cwd: options.cwd } : {}),
    });
    this.#child.stdout.setEncoding('utf8').on('data', (text: string) => {
      this.#screen += text;
      for (const wake of this.#waiters.splice(0)) wake();
    });
    this.#child.stderr.resume();
    this.#exit = new Promise((resolve) => this.#child.on('close', (code) => resolve(code)));
  }

  /** Everything shown so far, with terminal control sequences removed. */
  get screen(): string {
    // eslint-disable-next-line no-control-regex
    return this.#screen.replace(/\x1b\[[0-9;?]*[a-zA-Z]/g, '').replaceAll('\r', '');
  }

  type(text: string): void {
    this.#child.stdin.write(text);
  }

  /** Resolves when the screen, after `from` characters, matches; rejects after `limitMs`. */
  async waitFor(pattern: RegExp, from = 0, limitMs = 30_000): Promise<number> {
    const deadline = Date.now() + limitMs;
    for (;;) {
      const match = pattern.exec(this.screen.slice(from));
      if (match) return from + match.index + match[0].length;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${pattern} on screen:\n${this.screen}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 500));
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  exited(): Promise<number | null> {
    return this.#exit;
  }

  kill(): void {
    this.#child.kill('SIGKILL');
  }
}
