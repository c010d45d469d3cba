/**
 * Checks of the small programs an investigation passes to `awk` and `sed`: they are read-only
 * unless they run commands or write files, which these find. Conservative: what they cannot
 * read as harmless is reported as not read-only.
 */

/** Why an awk program is not read-only, or undefined when it only reads and prints. */
export function awkProgramProblem(program: string): string | undefined {
  const code = stripAwkLiterals(program);
  if (code === undefined) return 'the awk program has an unclosed string or regular expression';
  if (/\bsystem\s*\(/.test(code)) return 'the awk program runs commands with system()';
  if (/@(?:load|include|namespace)\b/.test(code)) return 'the awk program loads code (@load/@include)';
  if (/(?:^|[^|])\|(?!\|)/.test(code)) return 'the awk program pipes to or from a command (|)';
  if (/\|&/.test(code)) return 'the awk program talks to a co-process (|&)';
  if (/\b(?:printf?|print)\b/.test(code)) {
    for (const statement of code.split(/[;{}\n]/)) {
      const at = statement.search(/\b(?:printf?|print)\b/);
      if (at < 0) continue;
      let depth = 0;
      const rest = statement.slice(at);
      for (let index = 0; index < rest.length; index++) {
        const char = rest[index];
        if (char === '(') depth++;
        else if (char === ')') depth--;
        else if (char === '>' && depth <= 0 && rest[index + 1] !== '=')
          return 'the awk program writes to a file (print > file)';
      }
    }
  }
  return undefined;
}

/** The awk program with string and regular-expression literals blanked out; undefined if one is unclosed. */
function stripAwkLiterals(program: string): string | undefined {
  let out = '';
  let index = 0;
  let previous = '';
  while (index < program.length) {
    const char = program[index]!;
    if (char === '"') {
      const end = literalEnd(program, index, '"');
      if (end < 0) return undefined;
      out += '""';
      index = end + 1;
      previous = '"';
      continue;
    }
    if (char === '/' && regexMayStart(previous)) {
      const end = literalEnd(program, index, '/');
      if (end < 0) return undefined;
      out += '//';
      index = end + 1;
      previous = '/';
      continue;
    }
    if (char === '#') {
      while (index < program.length && program[index] !== '\n') index++;
      continue;
    }
    out += char;
    if (!/\s/.test(char)) previous = char;
    index++;
  }
  return out;
}

function regexMayStart(previous: string): boolean {
  return previous === '' || '(,~{;&|!:?=\n'.includes(previous);
}

function literalEnd(text: string, start: number, quote: string): number {
  let inClass = false;
  for (let index = start + 1; index < text.length; index++) {
    const char = text[index];
    if (char === '\\') {
      index++;
      continue;
    }
    if (quote === '/' && char === '[') inClass = true;
    else if (quote === '/' && char === ']') inClass = false;
    else if (char === quote && !inClass) return index;
    if (char === '\n' && quote === '"') return -1;
  }
  return -1;
}

/** Why a sed script is not read-only (it writes files or runs commands), or undefined. */
export function sedScriptProblem(script: string): string | undefined {
  let index = 0;
  const text = script;
  const skipBlanks = (): void => {
    while (index < text.length && /[\s;]/.test(text[index]!)) index++;
  };
  const readDelimited = (delimiter: string): boolean => {
    while (index < text.length) {
      const char = text[index]!;
      if (char === '\\') {
        index += 2;
        continue;
      }
      if (char === '\n' && delimiter !== '\n') return false;
      index++;
      if (char === delimiter) return true;
    }
    return false;
  };
  const readAddress = (): boolean => {
    const char = text[index];
    if (char === undefined) return true;
    if (/[0-9$]/.test(char)) {
      while (index < text.length && /[0-9$~+]/.test(text[index]!)) index++;
      return true;
    }
    if (char === '/') {
      index++;
      if (!readDelimited('/')) return false;
      while (/[IM]/.test(text[index] ?? '')) index++;
      return true;
    }
    if (char === '\\') {
      const delimiter = text[index + 1];
      if (delimiter === undefined) return false;
      index += 2;
      if (!readDelimited(delimiter)) return false;
      while (/[IM]/.test(text[index] ?? '')) index++;
    }
    return true;
  };
  while (index < text.length) {
    skipBlanks();
    if (index >= text.length) break;
    if (text[index] === '#') {
      while (index < text.length && text[index] !== '\n') index++;
      continue;
    }
    if (!readAddress()) return 'the sed script could not be read';
    if (text[index] === ',') {
      index++;
      if (!readAddress()) return 'the sed script could not be read';
    }
    while (text[index] === ' ' || text[index] === '!') index++;
    const command = text[index];
    if (command === undefined) break;
    index++;
    switch (command) {
      case '{':
      case '}':
      case '=':
      case 'd':
      case 'D':
      case 'g':
      case 'G':
      case 'h':
      case 'H':
      case 'l':
      case 'n':
      case 'N':
      case 'p':
      case 'P':
      case 'x':
      case 'z':
      case 'F':
        break;
      case 'q':
      case 'Q':
      case 'L':
        while (index < text.length && /[0-9 ]/.test(text[index]!)) index++;
        break;
      case ':':
      case 'b':
      case 't':
      case 'T':
      case 'r':
      case 'R':
        // A label, or a file to read: the rest of the line (GNU sed also ends labels at `;`).
        while (
          index < text.length &&
          text[index] !== '\n' &&
          (command === 'r' || command === 'R' || text[index] !== ';')
        )
          index++;
        break;
      case 'a':
      case 'i':
      case 'c':
        // Text to add: up to the end of the line (with backslash-newline continuations).
        while (index < text.length && text[index] !== '\n') {
          if (text[index] === '\\') index++;
          index++;
        }
        break;
      case 'w':
      case 'W':
        return `the sed script writes a file (${command} command)`;
      case 'e':
        return 'the sed script runs a command (e command)';
      case 's':
      case 'y': {
        const delimiter = text[index];
        if (delimiter === undefined || delimiter === '\n' || delimiter === '\\')
          return 'the sed script could not be read';
        index++;
        if (!readDelimited(delimiter) || !readDelimited(delimiter)) return 'the sed script could not be read';
        if (command === 's') {
          while (index < text.length && /[gpiImMe0-9w]/.test(text[index]!)) {
            const flag = text[index]!;
            if (flag === 'w') return 'the sed script writes a file (s///w)';
            if (flag === 'e') return 'the sed script runs a command (s///e)';
            index++;
          }
        }
        break;
      }
      default:
        return `the sed script has a command the policy does not know (${command})`;
    }
  }
  return undefined;
}
