/**
 * A small POSIX/bash command-line parser for the command policy. It does not run or expand
 * anything: it finds every simple command a line would run, including those in pipelines, lists,
 * subshells, `$(...)`, backticks, process substitutions and here-documents, with quote removal
 * done the way the shell does it. Whatever it cannot be sure of is flagged (`dynamic`, `pattern`,
 * `problems`) so the policy can fail safe instead of guessing.
 */

/** One word of a simple command. */
export interface ShellWord {
  /** The word after quote removal; expansions stay as written, e.g. `$HOME` or `$(date)`. */
  text: string;
  /** Part of the word is only known when the shell runs: parameter, command or arithmetic expansion. */
  dynamic: boolean;
  /** Holds an unquoted glob (`*?[`) or brace pattern (`{a,b}`) the shell may expand. */
  pattern: boolean;
}

export interface Redirect {
  /** `>`, `>>`, `<`, `<<`, `<<<`, `&>`, `>&`... */
  operator: string;
  target: ShellWord;
}

export interface SimpleCommand {
  /** Command name and arguments; leading `NAME=value` assignments are in `assignments`. */
  words: ShellWord[];
  assignments: string[];
  redirects: Redirect[];
  /** Text a here-document or here-string feeds to the command's stdin. */
  stdinText?: string;
  /** The stdin text holds expansions, so its final content is only known at run time. */
  stdinDynamic?: boolean;
  /** This pipeline stage is a `( ... )` subshell; its commands are listed as pipelines of their own. */
  group: boolean;
}

export interface Pipeline {
  /** Stages joined by `|`; each stage after the first reads the previous one's output. */
  stages: SimpleCommand[];
}

export interface ParsedShell {
  /** Every pipeline, including those nested in substitutions and subshells, in source order. */
  pipelines: Pipeline[];
  /** Syntax the parser could not follow (unterminated quote, nesting too deep...). */
  problems: string[];
}

/** Deeper nesting than this is reported as a problem rather than followed. */
const MAX_DEPTH = 16;

/** Reserved words that are not commands themselves; the next word is the command. */
const SKIPPED_RESERVED = new Set([
  'if',
  'then',
  'else',
  'elif',
  'fi',
  'do',
  'done',
  'while',
  'until',
  '!',
  '{',
  '}',
]);
/** Reserved words whose words up to the end of the list are not a command (`for x in a b`). */
const HEADER_RESERVED = new Set(['for', 'select', 'case']);

const WORD_END = new Set([' ', '\t', '\n', ';', '&', '|', '<', '>', '(', ')']);

const REDIRECT_OPERATORS = ['<<<', '<<-', '&>>', '<<', '<&', '<>', '>>', '>&', '>|', '&>', '<', '>'];

interface PendingHeredoc {
  delimiter: string;
  stripTabs: boolean;
  quoted: boolean;
  command: SimpleCommand;
}

/** Parses a command line. Never throws; problems are reported in the result. */
export function parseShell(source: string): ParsedShell {
  const parser = new ShellParser(source, 0);
  parser.parseList(undefined);
  return { pipelines: parser.pipelines, problems: parser.problems };
}

class ShellParser {
  readonly pipelines: Pipeline[] = [];
  readonly problems: string[] = [];
  readonly #source: string;
  readonly #depth: number;
  #position = 0;
  #pendingHeredocs: PendingHeredoc[] = [];

  constructor(source: string, depth: number) {
    this.#source = source;
    this.#depth = depth;
  }

  /**
   * Parses commands until the end of the text or, when `closer` is `)`, an unmatched `)`, which is
   * consumed. Nested lists (subshells, `$(...)`) recurse with their own nesting count.
   */
  parseList(closer: ')' | undefined, nesting = 0): void {
    if (nesting + this.#depth > MAX_DEPTH) {
      this.problems.push('commands are nested too deeply to check');
      this.#position = this.#source.length;
      return;
    }
    const source = this.#source;
    let stages: SimpleCommand[] = [];
    let command = newCommand();
    let header: string | undefined;
    let caseDepth = 0;

    const endStage = (): void => {
      if (
        header === undefined &&
        (command.words.length > 0 || command.group || command.redirects.length > 0)
      ) {
        stages.push(command);
      }
      command = newCommand();
      header = undefined;
    };
    const endPipeline = (): void => {
      endStage();
      if (stages.length > 0) this.pipelines.push({ stages });
      stages = [];
    };
    const atCommandStart = (): boolean =>
      command.words.length === 0 && !command.group && header === undefined;

    while (this.#position < source.length) {
      const char = source[this.#position]!;
      const next = source[this.#position + 1];
      if (char === ' ' || char === '\t') {
        this.#position++;
        continue;
      }
      if (char === '\\' && next === '\n') {
        this.#position += 2;
        continue;
      }
      if (char === '#') {
        while (this.#position < source.length && source[this.#position] !== '\n') this.#position++;
        continue;
      }
      if (char === '\n') {
        endPipeline();
        this.#position++;
        this.#readHeredocBodies();
        continue;
      }
      if (char === ')') {
        this.#position++;
        if (caseDepth > 0) {
          // The end of a case pattern: what came before it was the pattern, not a command.
          command = newCommand();
          continue;
        }
        if (closer === ')') {
          endPipeline();
          return;
        }
        continue;
      }
      if (char === '(') {
        if (next === '(' && atCommandStart()) {
          this.#skipArithmetic(this.#position + 2);
          command.group = true;
          continue;
        }
        this.#position++;
        if (command.words.length === 0 && header === undefined) {
          this.parseList(')', nesting + 1);
          command.group = true;
        } else {
          // `name() { ...; }`: a function definition; its body is parsed as commands.
          while (this.#position < source.length && source[this.#position] !== ')') this.#position++;
          this.#position++;
          command = newCommand();
        }
        continue;
      }
      if (char === ';') {
        this.#position += next === ';' || next === '&' ? 2 : 1;
        endPipeline();
        continue;
      }
      if (char === '&' && next !== '>') {
        this.#position += next === '&' ? 2 : 1;
        endPipeline();
        continue;
      }
      if (char === '|') {
        if (next === '|') {
          this.#position += 2;
          endPipeline();
        } else {
          this.#position += next === '&' ? 2 : 1;
          endStage();
        }
        continue;
      }
      if (
        (char === '<' || char === '>' || char === '&') &&
        !(source[this.#position + 1] === '(' && char !== '&')
      ) {
        this.#readRedirect(command);
        continue;
      }
      const start = this.#position;
      const word = this.#readWord(nesting);
      if (this.#position === start) {
        this.#position++;
        continue;
      }
      const after = source[this.#position];
      if (/^\d+$/.test(word.text) && !word.dynamic && (after === '<' || after === '>')) {
        this.#readRedirect(command);
        continue;
      }
      if (atCommandStart()) {
        if (/^[A-Za-z_][A-Za-z0-9_]*\+?=/.test(source.slice(start, this.#position))) {
          command.assignments.push(word.text);
          continue;
        }
        const plain = source.slice(start, this.#position) === word.text;
        if (plain && SKIPPED_RESERVED.has(word.text)) continue;
        if (plain && word.text === 'esac') {
          caseDepth = Math.max(0, caseDepth - 1);
          continue;
        }
        if (plain && word.text === 'function') {
          this.#skipBlanks();
          this.#readWord(nesting);
          continue;
        }
        if (plain && HEADER_RESERVED.has(word.text)) {
          header = word.text;
          if (word.text === 'case') caseDepth++;
          continue;
        }
      }
      if (header === 'case' && word.text === 'in') {
        header = undefined;
        command = newCommand();
        continue;
      }
      command.words.push(word);
    }
    if (closer === ')') this.problems.push('a ( or $( is never closed');
    endPipeline();
    this.#readHeredocBodies();
  }

  #skipBlanks(): void {
    while (this.#source[this.#position] === ' ' || this.#source[this.#position] === '\t') this.#position++;
  }

  /** Skips `$((...))` or `((...))` from just inside the opening parentheses. */
  #skipArithmetic(from: number): void {
    let depth = 2;
    let position = from;
    while (position < this.#source.length && depth > 0) {
      const char = this.#source[position];
      if (char === '(') depth++;
      else if (char === ')') depth--;
      position++;
    }
    if (depth > 0) this.problems.push('an arithmetic expression is never closed');
    this.#position = position;
  }

  #readRedirect(command: SimpleCommand): void {
    const rest = this.#source.slice(this.#position, this.#position + 3);
    const operator = REDIRECT_OPERATORS.find((candidate) => rest.startsWith(candidate)) ?? rest[0]!;
    this.#position += operator.length;
    this.#skipBlanks();
    const start = this.#position;
    const target = this.#readWord(0);
    if (this.#position === start) {
      this.problems.push(`redirection ${operator} has no target`);
      return;
    }
    command.redirects.push({ operator, target });
    if (operator === '<<<') {
      command.stdinText = target.text;
      command.stdinDynamic = target.dynamic;
    } else if (operator === '<<' || operator === '<<-') {
      const raw = this.#source.slice(start, this.#position);
      this.#pendingHeredocs.push({
        delimiter: target.text,
        stripTabs: operator === '<<-',
        quoted: raw !== target.text,
        command,
      });
    }
  }

  /** Reads the bodies of the here-documents opened on the line that just ended. */
  #readHeredocBodies(): void {
    for (const heredoc of this.#pendingHeredocs) {
      const lines: string[] = [];
      let closed = false;
      while (this.#position < this.#source.length) {
        const end = this.#source.indexOf('\n', this.#position);
        const stop = end < 0 ? this.#source.length : end;
        let line = this.#source.slice(this.#position, stop);
        this.#position = stop + 1;
        if (heredoc.stripTabs) line = line.replace(/^\t+/, '');
        if (line === heredoc.delimiter) {
          closed = true;
          break;
        }
        lines.push(line);
      }
      if (!closed) this.problems.push(`here-document ${heredoc.delimiter} is never closed`);
      const body = lines.join('\n');
      heredoc.command.stdinText = body;
      if (!heredoc.quoted) {
        const inner = new ShellParser(body, this.#depth + 1);
        const dynamic = inner.#scanExpansions();
        this.#adopt(inner);
        heredoc.command.stdinDynamic = dynamic;
      }
    }
    this.#pendingHeredocs = [];
  }

  /** Parses only the expansions of text that is otherwise data (an unquoted here-document). */
  #scanExpansions(): boolean {
    let dynamic = false;
    while (this.#position < this.#source.length) {
      const char = this.#source[this.#position];
      if (char === '\\') this.#position += 2;
      else if (char === '$') dynamic = this.#readDollar(0, false).dynamic || dynamic;
      else if (char === '`') {
        this.#readBacktick();
        dynamic = true;
      } else this.#position++;
    }
    return dynamic;
  }

  #adopt(inner: ShellParser): void {
    this.pipelines.push(...inner.pipelines);
    this.problems.push(...inner.problems);
  }

  #readWord(nesting: number): ShellWord {
    const source = this.#source;
    let text = '';
    let dynamic = false;
    let pattern = false;
    while (this.#position < source.length) {
      const char = source[this.#position]!;
      const next = source[this.#position + 1];
      if ((char === '<' || char === '>') && next === '(') {
        const start = this.#position;
        this.#position += 2;
        this.parseList(')', nesting + 1);
        text += source.slice(start, this.#position);
        dynamic = true;
        continue;
      }
      if (WORD_END.has(char)) break;
      if (char === '\\') {
        if (next !== '\n') text += next ?? '';
        this.#position += 2;
        continue;
      }
      if (char === "'") {
        const end = source.indexOf("'", this.#position + 1);
        if (end < 0) {
          this.problems.push('a single quote is never closed');
          text += source.slice(this.#position + 1);
          this.#position = source.length;
          break;
        }
        text += source.slice(this.#position + 1, end);
        this.#position = end + 1;
        continue;
      }
      if (char === '"') {
        const part = this.#readDoubleQuoted(nesting);
        text += part.text;
        dynamic ||= part.dynamic;
        continue;
      }
      if (char === '$') {
        const part = this.#readDollar(nesting, true);
        text += part.text;
        dynamic ||= part.dynamic;
        continue;
      }
      if (char === '`') {
        text += this.#readBacktick();
        dynamic = true;
        continue;
      }
      if (char === '*' || char === '?' || char === '[') pattern = true;
      if (char === '{' && /^\{[^\s{}]*(?:,|\.\.)[^\s{}]*\}/.test(source.slice(this.#position)))
        pattern = true;
      text += char;
      this.#position++;
    }
    // `[` and `[[` are the test commands, not glob brackets.
    return { text, dynamic, pattern: pattern && text !== '[' && text !== '[[' };
  }

  #readDoubleQuoted(nesting: number): { text: string; dynamic: boolean } {
    const source = this.#source;
    this.#position++;
    let text = '';
    let dynamic = false;
    while (this.#position < source.length) {
      const char = source[this.#position]!;
      const next = source[this.#position + 1];
      if (char === '"') {
        this.#position++;
        return { text, dynamic };
      }
      if (char === '\\') {
        if (next === '\n') {
          this.#position += 2;
          continue;
        }
        text += next !== undefined && '$`"\\'.includes(next) ? next : `\\${next ?? ''}`;
        this.#position += 2;
        continue;
      }
      if (char === '$') {
        const part = this.#readDollar(nesting, false);
        text += part.text;
        dynamic ||= part.dynamic;
        continue;
      }
      if (char === '`') {
        text += this.#readBacktick();
        dynamic = true;
        continue;
      }
      text += char;
      this.#position++;
    }
    this.problems.push('a double quote is never closed');
    return { text, dynamic };
  }

  /** Reads a `$...` expansion at the current position and returns its text as written. */
  #readDollar(nesting: number, unquoted: boolean): { text: string; dynamic: boolean } {
    const source = this.#source;
    const start = this.#position;
    const next = source[start + 1];
    if (unquoted && next === "'") {
      this.#position += 2;
      return { text: this.#readAnsiC(), dynamic: false };
    }
    if (unquoted && next === '"') {
      this.#position++;
      return this.#readDoubleQuoted(nesting);
    }
    if (next === '(' && source[start + 2] === '(') {
      this.#skipArithmetic(start + 3);
      return { text: source.slice(start, this.#position), dynamic: true };
    }
    if (next === '(') {
      this.#position += 2;
      this.parseList(')', nesting + 1);
      return { text: source.slice(start, this.#position), dynamic: true };
    }
    if (next === '{') {
      let depth = 0;
      let position = start + 1;
      while (position < source.length) {
        const char = source[position];
        if (char === '{') depth++;
        else if (char === '}' && --depth === 0) break;
        position++;
      }
      if (position >= source.length) this.problems.push('a ${ is never closed');
      this.#position = Math.min(position + 1, source.length);
      return { text: source.slice(start, this.#position), dynamic: true };
    }
    const name = /^(?:[A-Za-z_][A-Za-z0-9_]*|[0-9@*#?$!-])/.exec(source.slice(start + 1));
    if (name) {
      this.#position = start + 1 + name[0].length;
      return { text: source.slice(start, this.#position), dynamic: true };
    }
    this.#position++;
    return { text: '$', dynamic: false };
  }

  /** Reads a `$'...'` string from just after its opening quote, decoding the common escapes. */
  #readAnsiC(): string {
    const source = this.#source;
    let text = '';
    while (this.#position < source.length) {
      const char = source[this.#position]!;
      if (char === "'") {
        this.#position++;
        return text;
      }
      if (char !== '\\') {
        text += char;
        this.#position++;
        continue;
      }
      const rest = source.slice(this.#position + 1);
      const hex = /^x([0-9A-Fa-f]{1,2})/.exec(rest);
      const octal = /^([0-7]{1,3})/.exec(rest);
      if (hex) {
        text += String.fromCharCode(Number.parseInt(hex[1]!, 16));
        this.#position += 1 + hex[0].length;
      } else if (octal) {
        text += String.fromCharCode(Number.parseInt(octal[1]!, 8));
        this.#position += 1 + octal[0].length;
      } else {
        const escape = rest[0] ?? '';
        const simple: Record<string, string> = { n: '\n', t: '\t', r: '\r', e: '\x1b', a: '\x07' };
        text += simple[escape] ?? escape;
        this.#position += 2;
      }
    }
    this.problems.push("a $' quote is never closed");
    return text;
  }

  /** Reads a backtick substitution, parses its commands, and returns its text as written. */
  #readBacktick(): string {
    const source = this.#source;
    const start = this.#position;
    this.#position++;
    let inner = '';
    while (this.#position < source.length && source[this.#position] !== '`') {
      const char = source[this.#position]!;
      const next = source[this.#position + 1];
      if (char === '\\' && next !== undefined && '`$\\'.includes(next)) {
        inner += next;
        this.#position += 2;
        continue;
      }
      inner += char;
      this.#position++;
    }
    if (this.#position >= source.length) this.problems.push('a backtick is never closed');
    this.#position++;
    if (this.#depth + 1 > MAX_DEPTH) {
      this.problems.push('commands are nested too deeply to check');
    } else {
      const parser = new ShellParser(inner, this.#depth + 1);
      parser.parseList(undefined);
      this.#adopt(parser);
    }
    return source.slice(start, Math.min(this.#position, source.length));
  }
}

function newCommand(): SimpleCommand {
  return { words: [], assignments: [], redirects: [], group: false };
}
