import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { shellQuote } from '../../runtime/shell-session/shell-quote.js';

/**
 * Password authentication without a terminal and without putting the password in argv or in any
 * environment: ssh runs a tiny askpass program (SSH_ASKPASS with SSH_ASKPASS_REQUIRE=force) that
 * prints a 0600 file in opsmate's private 0700 folder. The file exists only while a connection is
 * being opened. Any other prompt (a key passphrase, a host key question) is refused.
 */
export class Askpass {
  readonly #programPath: string;
  readonly #passwordPath: string;
  readonly #password: string;

  constructor(options: { dir: string; password: string }) {
    this.#programPath = join(options.dir, 'askpass');
    this.#passwordPath = join(options.dir, 'password');
    this.#password = options.password;
    const program = [
      '#!/bin/sh',
      '# Written by opsmate: answers the ssh password prompt, refuses every other prompt.',
      'case "$1" in',
      `  *assword*) exec cat -- ${shellQuote(this.#passwordPath)} ;;`,
      'esac',
      'exit 1',
      '',
    ].join('\n');
    writeFileSync(this.#programPath, program, { mode: 0o700 });
  }

  /** Variables for the local `ssh` process only; they name the program, never the password. */
  environment(): Record<string, string> {
    return { SSH_ASKPASS: this.#programPath, SSH_ASKPASS_REQUIRE: 'force' };
  }

  /** Makes the password readable to the askpass program while `action` runs, then removes it. */
  async whileConnecting<T>(action: () => Promise<T>): Promise<T> {
    writeFileSync(this.#passwordPath, this.#password, { mode: 0o600 });
    try {
      return await action();
    } finally {
      rmSync(this.#passwordPath, { force: true });
    }
  }
}
