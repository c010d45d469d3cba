import type { ShellWord } from './shell-parser.js';

/**
 * How a program reads its options, as getopt does: which short letters and long names take a
 * value, and whether options may follow the first plain argument (GNU getopt permutes unless the
 * program asks it not to). Used to find the command a wrapper runs (`sudo --chdir / rm`) and the
 * subcommand of a CLI (`kubectl -n x get pods`). An option that is not listed cannot be placed
 * (does it take the next word?), so it is reported rather than guessed.
 */
export interface OptionSpec {
  /** Short options that take a value: `u` for `-u USER`, `-uUSER` or `-nu USER`. */
  shortValue?: string;
  /** Short options without a value. */
  shortFlags?: string;
  /** Short options whose value, if any, must be attached (`xargs -i{}`). */
  shortOptional?: string;
  /** Long options that take a value (`--user USER` or `--user=USER`). */
  longValue?: string[];
  /** Long options without a value. */
  longFlags?: string[];
  /** Long options whose value, if any, follows `=`. */
  longOptional?: string[];
  /** Options may appear after plain arguments (GNU getopt without `+`). */
  permute?: boolean;
  /** Plain `-N` / `--N` numbers are options (`nice -10`, `kill -9`). */
  numericOptions?: boolean;
}

export interface ParsedOption {
  /** As written: `-u`, `--user`, or the group's letter as `-u`. */
  name: string;
  value?: ShellWord;
}

export interface ParsedArguments {
  options: ParsedOption[];
  /** Plain arguments, in order (after `--` everything is plain). */
  positionals: ShellWord[];
  /** The index in `words` of each positional. */
  positionalIndexes: number[];
  /** An option the spec does not know, or one whose name is only known at run time. */
  unknown?: string;
  /** How many positionals came before `unknown`: later positionals might be its value. */
  unknownAt?: number;
}

function word(text: string): ShellWord {
  return { text, dynamic: false, pattern: false };
}

/**
 * Reads `words` (the program's arguments, without the program) the way getopt would. Stops at
 * the first plain argument unless `permute`, or when `stopAt` says the positionals found so far
 * are enough (the rest is a command and its own options).
 */
export function parseArguments(
  words: ShellWord[],
  spec: OptionSpec,
  stopAt?: (positionals: ShellWord[]) => boolean,
): ParsedArguments {
  const result: ParsedArguments = { options: [], positionals: [], positionalIndexes: [] };
  const shortValue = spec.shortValue ?? '';
  const shortFlags = spec.shortFlags ?? '';
  const shortOptional = spec.shortOptional ?? '';
  let index = 0;
  const plain = (at: number): void => {
    result.positionals.push(words[at]!);
    result.positionalIndexes.push(at);
  };
  while (index < words.length) {
    if (stopAt?.(result.positionals)) {
      for (let rest = index; rest < words.length; rest++) plain(rest);
      return result;
    }
    const current = words[index]!;
    const text = current.text;
    if (text === '--') {
      for (let rest = index + 1; rest < words.length; rest++) plain(rest);
      return result;
    }
    if (!text.startsWith('-') || text === '-') {
      if (current.dynamic && !spec.permute && result.positionals.length === 0) {
        // `$OPT cmd`: an expansion may be an option or several words.
        {
          result.unknown ??= text;
          result.unknownAt ??= result.positionals.length;
        }
      }
      plain(index);
      index++;
      if (!spec.permute) {
        if (stopAt) continue;
        for (let rest = index; rest < words.length; rest++) plain(rest);
        return result;
      }
      continue;
    }
    if (current.dynamic) {
      result.unknownAt ??= result.positionals.length;
      result.unknown ??= text;
      index++;
      continue;
    }
    if (spec.numericOptions && /^--?\d+$/.test(text)) {
      result.options.push({ name: text });
      index++;
      continue;
    }
    if (text.startsWith('--')) {
      const equals = text.indexOf('=');
      const name = equals < 0 ? text : text.slice(0, equals);
      if (spec.longValue?.includes(name)) {
        if (equals >= 0) {
          result.options.push({ name, value: word(text.slice(equals + 1)) });
          index++;
        } else {
          const value = words[index + 1];
          result.options.push({ name, ...(value ? { value } : {}) });
          index += 2;
        }
        continue;
      }
      if (spec.longFlags?.includes(name) && equals < 0) {
        result.options.push({ name });
        index++;
        continue;
      }
      if (spec.longOptional?.includes(name)) {
        result.options.push({ name, ...(equals >= 0 ? { value: word(text.slice(equals + 1)) } : {}) });
        index++;
        continue;
      }
      result.unknownAt ??= result.positionals.length;
      result.unknown ??= name;
      result.options.push({ name });
      index++;
      continue;
    }
    // A group of short options: `-nu root`, `-uroot`, `-itd`.
    let consumedNext = false;
    for (let at = 1; at < text.length; at++) {
      const letter = text[at]!;
      const name = `-${letter}`;
      if (shortValue.includes(letter)) {
        const attached = text.slice(at + 1);
        if (attached !== '') result.options.push({ name, value: word(attached) });
        else {
          const value = words[index + 1];
          result.options.push({ name, ...(value ? { value } : {}) });
          consumedNext = true;
        }
        break;
      }
      if (shortOptional.includes(letter)) {
        const attached = text.slice(at + 1);
        result.options.push({ name, ...(attached !== '' ? { value: word(attached) } : {}) });
        break;
      }
      if (shortFlags.includes(letter)) {
        result.options.push({ name });
        continue;
      }
      result.unknownAt ??= result.positionals.length;
      result.unknown ??= name;
      result.options.push({ name });
    }
    index += consumedNext ? 2 : 1;
  }
  return result;
}

/** Whether an option was given (`-f` or `--force`...). */
export function hasOption(parsed: ParsedArguments, ...names: string[]): boolean {
  return parsed.options.some((option) => names.includes(option.name));
}

export function optionValues(parsed: ParsedArguments, ...names: string[]): ShellWord[] {
  return parsed.options
    .filter((option) => names.includes(option.name) && option.value !== undefined)
    .map((option) => option.value!);
}
