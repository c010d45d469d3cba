import { shellQuote } from './shell-quote.js';

/*
 * The state that carries over from one command to the next: the working directory and the shell
 * variables, exported or not. Each command runs in a subshell that reports its final state as a
 * dump (bash: `declare -p`; other shells: `export -p`, a unit separator, then `set`). The dump was
 * written by a process the command controlled, so it is parsed here as data, strictly, and never
 * evaluated: the session's own shell only ever receives assignments this module quoted itself.
 *
 * Dumps are handled as latin1 strings so that every byte of a value survives the round trip.
 */

/** One shell variable as the dump showed it. `value` is undefined for `export NAME` with no value. */
export interface ShellVariable {
  value: string | undefined;
  exported: boolean;
}

export type ShellVariables = Map<string, ShellVariable>;

/** Which dump format the shell writes, as it told at start-up. */
export type ShellFlavor = 'bash' | 'posix';

/**
 * Variables the shell manages itself, or that describe one process rather than the user's state.
 * They are never carried from a command's subshell to the session's shell. `IFS` is among them:
 * like shell options, functions, aliases and traps, it changes how the shell reads every later
 * command, so it lasts for one command only.
 */
const SHELL_MANAGED = new Set([
  '_',
  'IFS',
  // Files a non-interactive shell sources at start: they would run before every command.
  'BASH_ENV',
  'ENV',
  'BASH',
  'BASHOPTS',
  'BASHPID',
  'BASH_ALIASES',
  'BASH_ARGC',
  'BASH_ARGV',
  'BASH_ARGV0',
  'BASH_CMDS',
  'BASH_COMMAND',
  'BASH_EXECUTION_STRING',
  'BASH_LINENO',
  'BASH_LOADABLES_PATH',
  'BASH_REMATCH',
  'BASH_SOURCE',
  'BASH_SUBSHELL',
  'BASH_VERSINFO',
  'BASH_VERSION',
  'COMP_WORDBREAKS',
  'DIRSTACK',
  'EPOCHREALTIME',
  'EPOCHSECONDS',
  'EUID',
  'FUNCNAME',
  'GROUPS',
  'HISTCMD',
  'HOSTTYPE',
  'LINENO',
  'MACHTYPE',
  'OPTIND',
  'OSTYPE',
  'PIPESTATUS',
  'PPID',
  'PWD',
  'RANDOM',
  'SECONDS',
  'SHELLOPTS',
  'SHLVL',
  'SRANDOM',
  'UID',
]);

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** True when a variable of this name is carried from command to command. */
export function isCarriedVariable(name: string): boolean {
  return NAME.test(name) && !SHELL_MANAGED.has(name) && !name.startsWith('__opsmate');
}

/** A parsed state dump: the carried variables and the working directory (`PWD`). */
export interface StateDump {
  variables: ShellVariables;
  cwd: string | undefined;
}

/**
 * Parses a state dump. Returns undefined when the dump is not in the shape the shell writes (the
 * command may have redefined `declare`, `set` or `printf`, or printed a fake dump): the caller
 * then keeps the state it had.
 */
export function parseStateDump(dump: string, flavor: ShellFlavor): StateDump | undefined {
  try {
    return flavor === 'bash' ? parseDeclareDump(dump) : parsePosixDump(dump);
  } catch {
    return undefined;
  }
}

function parseDeclareDump(dump: string): StateDump {
  const variables: ShellVariables = new Map();
  let cwd: string | undefined;
  const reader = new WordReader(dump);
  while (!reader.atEnd()) {
    reader.expect('declare -');
    const flags = reader.readWhile(/[-a-zA-Z]/);
    reader.expect(' ');
    const name = reader.readWhile(/[A-Za-z0-9_]/);
    if (!NAME.test(name)) throw new SyntaxError(`bad name ${name}`);
    let value: string | undefined;
    if (reader.peek() === '=') {
      reader.skip(1);
      if (reader.peek() === '(') {
        reader.readArray();
        value = undefined;
      } else value = reader.readWord();
    }
    reader.expectLineEnd();
    // Arrays, associative arrays and namerefs are not carried; readonly and integer attributes
    // are dropped, the value is kept.
    if (/[aAn]/.test(flags) || (value === undefined && !flags.includes('x'))) continue;
    if (name === 'PWD') cwd = value || undefined;
    if (isCarriedVariable(name)) variables.set(name, { value, exported: flags.includes('x') });
  }
  return { variables, cwd };
}

function parsePosixDump(dump: string): StateDump {
  // `export -p`, a unit separator, then `set`. Values may hold the separator: read statement by
  // statement, never split the text.
  const reader = new WordReader(dump);
  const exported = new Map<string, string | undefined>();
  while (reader.peek() !== '\x1f') {
    if (reader.atEnd()) throw new SyntaxError('no separator');
    reader.expect('export ');
    const name = reader.readWhile(/[A-Za-z0-9_]/);
    let value: string | undefined;
    if (reader.peek() === '=') {
      reader.skip(1);
      value = reader.readWord();
    }
    reader.expectLineEnd();
    exported.set(name, value);
  }
  reader.skip(1);
  const variables: ShellVariables = new Map();
  let cwd: string | undefined;
  const all = reader;
  while (!all.atEnd()) {
    const name = all.readWhile(/[A-Za-z0-9_]/);
    all.expect('=');
    const value = all.readWord();
    all.expectLineEnd();
    if (name === 'PWD') cwd = value || undefined;
    if (isCarriedVariable(name)) variables.set(name, { value, exported: exported.has(name) });
  }
  for (const [name, value] of exported) {
    if (!variables.has(name) && isCarriedVariable(name)) variables.set(name, { value, exported: true });
  }
  return { variables, cwd };
}

/**
 * Shell text for a command's shell that turns the variables it inherits from the session shell
 * (`inherited`: the session shell's exported variables, which never change after it started)
 * into `wanted`: exports and unsets of what differs, and every variable that is not exported
 * (a new shell has none). Every value single-quoted; `; `-separated; empty when nothing to do.
 */
export function commandShellAssignments(options: {
  inherited: ShellVariables;
  wanted: ShellVariables;
}): string {
  const parts: string[] = [];
  for (const [name, before] of options.inherited) {
    if (!before.exported) continue;
    const after = options.wanted.get(name);
    if (!after || !after.exported) parts.push(`unset ${name}`);
  }
  for (const [name, after] of options.wanted) {
    if (after.exported) {
      const before = options.inherited.get(name);
      if (before?.exported && before.value === after.value) continue;
      parts.push(after.value === undefined ? `export ${name}` : `export ${name}=${shellQuote(after.value)}`);
    } else if (after.value !== undefined) parts.push(`${name}=${shellQuote(after.value)}`);
  }
  return parts.join('; ');
}

/** Reads shell words as `declare -p`, `export -p` and `set` print them. Throws on anything else. */
class WordReader {
  readonly #text: string;
  #at = 0;

  constructor(text: string) {
    this.#text = text;
  }

  atEnd(): boolean {
    return this.#at >= this.#text.length;
  }

  peek(): string | undefined {
    return this.#text[this.#at];
  }

  skip(count: number): void {
    this.#at += count;
  }

  expect(literal: string): void {
    if (!this.#text.startsWith(literal, this.#at)) throw new SyntaxError(`expected ${literal}`);
    this.#at += literal.length;
  }

  expectLineEnd(): void {
    if (this.atEnd()) return;
    this.expect('\n');
  }

  readWhile(pattern: RegExp): string {
    const start = this.#at;
    while (!this.atEnd() && pattern.test(this.#text[this.#at]!)) this.#at++;
    return this.#text.slice(start, this.#at);
  }

  /** Skips a bash array literal `(...)`, quotes included. */
  readArray(): void {
    this.expect('(');
    while (this.peek() !== ')') {
      if (this.atEnd()) throw new SyntaxError('unterminated array');
      if (this.peek() === "'") this.#singleQuoted();
      else if (this.peek() === '"') this.#doubleQuoted();
      else if (this.#text.startsWith("$'", this.#at)) this.#ansiQuoted();
      else this.#at++;
    }
    this.#at++;
  }

  /** One shell word made of quoted and bare parts, up to an unquoted newline or the end. */
  readWord(): string {
    let value = '';
    for (;;) {
      const character = this.peek();
      if (character === undefined || character === '\n') return value;
      if (character === "'") value += this.#singleQuoted();
      else if (character === '"') value += this.#doubleQuoted();
      else if (character === '$' && this.#text[this.#at + 1] === "'") value += this.#ansiQuoted();
      else if (character === '\\') {
        value += this.#text[this.#at + 1] ?? '';
        this.#at += 2;
      } else if (character === ' ' || character === '\t' || character === ';') {
        throw new SyntaxError('unexpected blank');
      } else {
        value += character;
        this.#at++;
      }
    }
  }

  #singleQuoted(): string {
    const end = this.#text.indexOf("'", this.#at + 1);
    if (end < 0) throw new SyntaxError('unterminated quote');
    const value = this.#text.slice(this.#at + 1, end);
    this.#at = end + 1;
    return value;
  }

  #doubleQuoted(): string {
    let value = '';
    this.#at++;
    for (;;) {
      const character = this.#text[this.#at];
      if (character === undefined) throw new SyntaxError('unterminated double quote');
      this.#at++;
      if (character === '"') return value;
      if (character === '\\') {
        const next = this.#text[this.#at];
        if (next === '$' || next === '`' || next === '"' || next === '\\') {
          value += next;
          this.#at++;
        } else if (next === '\n') this.#at++;
        else value += '\\';
      } else value += character;
    }
  }

  #ansiQuoted(): string {
    let value = '';
    this.#at += 2;
    for (;;) {
      const character = this.#text[this.#at];
      if (character === undefined) throw new SyntaxError("unterminated $'");
      this.#at++;
      if (character === "'") return value;
      if (character !== '\\') {
        value += character;
        continue;
      }
      const escape = this.#text[this.#at++];
      switch (escape) {
        case 'n':
          value += '\n';
          break;
        case 't':
          value += '\t';
          break;
        case 'r':
          value += '\r';
          break;
        case 'a':
          value += '\x07';
          break;
        case 'b':
          value += '\b';
          break;
        case 'e':
        case 'E':
          value += '\x1b';
          break;
        case 'f':
          value += '\f';
          break;
        case 'v':
          value += '\v';
          break;
        case 'x': {
          const digits = /^[0-9a-fA-F]{1,2}/.exec(this.#text.slice(this.#at))?.[0] ?? '';
          this.#at += digits.length;
          value += String.fromCharCode(Number.parseInt(digits || '0', 16));
          break;
        }
        case 'c': {
          const control = this.#text[this.#at++] ?? '';
          value += String.fromCharCode(control.charCodeAt(0) & 0x1f);
          break;
        }
        case undefined:
          throw new SyntaxError("unterminated $'");
        default:
          if (/[0-7]/.test(escape)) {
            const digits = /^[0-7]{1,3}/.exec(this.#text.slice(this.#at - 1))?.[0] ?? escape;
            this.#at += digits.length - 1;
            value += String.fromCharCode(Number.parseInt(digits, 8) & 0xff);
          } else value += escape;
      }
    }
  }
}
