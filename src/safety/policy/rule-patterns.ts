/**
 * How user rules (`commands:`, `prefix:`, `exact:` in policy.yaml) match a command. A rule sees
 * the same command model the built-in rules use: the program, then its plain words with every
 * option and its value set aside, read with the program's option spec (which options take a
 * value). Where the model cannot be sure (an option of a program with no spec, or one the spec
 * does not list: does it take the next word?), every reading is tried: a rule that allows must
 * match in all of them. A rule that asks or denies matches when any reading does, every option
 * read both as a flag and as taking the next word (a spec may be wrong about one). So `kubectl -n get delete ns`
 * is not `kubectl get`, and `kubectl -n prod delete pod x` is `kubectl delete`.
 */
import type { OptionSpec } from './command-options.js';
import { programName } from './command-segments.js';
import type { ShellWord } from './shell-parser.js';

/** One segment as user rules see it: words and text (a shell segment or a SQL statement). */
export interface RuleSubject {
  words: Array<{ text: string; dynamic?: boolean; pattern?: boolean }>;
  text: string;
  /** Words starting with `-` are options to be read with the program's spec (shell commands). */
  shell?: boolean;
}

/**
 * `all`: the rule matches only when every reading of the command matches (allow rules).
 * `any`: it matches when some reading does (ask and deny rules).
 */
export type MatchMode = 'all' | 'any';

/** Possible numbers of words an option word takes: itself, or itself and the next word. */
type Consumes = 1 | 2 | 'either';

/** `prod-*` → /^prod-.*$/; `?` is one character; everything else is literal. */
export function globRegex(glob: string): RegExp {
  const body = glob
    .split('')
    .map((char) => (char === '*' ? '.*' : char === '?' ? '.' : char.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${body}$`, 's');
}

/** Long option names of `names` that `name` (`--nam`) abbreviates, as GNU getopt accepts. */
function longCandidates(name: string, names: string[] | undefined): string[] {
  if (!names) return [];
  if (names.includes(name)) return [name];
  return names.filter((full) => full.startsWith(name));
}

/** How many words the option word `text` takes, by `spec` (`either` when the spec cannot tell). */
export function optionConsumes(text: string, spec: OptionSpec): Consumes {
  if (spec.numericOptions && /^--?\d+$/.test(text)) return 1;
  if (text.startsWith('--')) {
    if (text.includes('=')) return 1;
    const values = longCandidates(text, spec.longValue);
    const flags = [
      ...longCandidates(text, spec.longFlags),
      ...longCandidates(text, spec.longOptional),
    ].filter((name) => !values.includes(name));
    if (values.length > 0 && flags.length === 0) return 2;
    if (flags.length > 0 && values.length === 0) return 1;
    return 'either';
  }
  const shortValue = spec.shortValue ?? '';
  const shortFlags = spec.shortFlags ?? '';
  const shortOptional = spec.shortOptional ?? '';
  for (let at = 1; at < text.length; at++) {
    const letter = text[at]!;
    if (shortValue.includes(letter)) return at === text.length - 1 ? 2 : 1;
    if (shortOptional.includes(letter)) return 1;
    if (shortFlags.includes(letter)) continue;
    // Not in the spec: a flag (read on), or an option whose value is the rest or the next word.
    return 'either';
  }
  return 1;
}

/**
 * Whether some (`any`) or every (`all`) reading of `words` has `wanted` as its first plain words,
 * in order. An option the spec cannot place is read both as a flag and as taking the next word;
 * a word only known at run time both as any plain word and as an option.
 */
export function plainWordsMatch(
  words: RuleSubject['words'],
  wanted: RegExp[],
  consumes: (option: string) => Consumes,
  mode: MatchMode,
): boolean {
  const memo = new Map<number, boolean>();
  const combine = (left: () => boolean, right: () => boolean): boolean =>
    mode === 'all' ? left() && right() : left() || right();
  const step = (index: number, matched: number, plainOnly: boolean): boolean => {
    if (matched === wanted.length) return true;
    if (index >= words.length) return false;
    const key = (index * (wanted.length + 1) + matched) * 2 + (plainOnly ? 1 : 0);
    const known = memo.get(key);
    if (known !== undefined) return known;
    const word = words[index]!;
    const text = word.text;
    let result: boolean;
    if (word.dynamic === true || word.pattern === true) {
      // Could be several words, an option, or nothing at all.
      result =
        mode === 'all'
          ? false
          : step(index + 1, matched + 1, plainOnly) || step(index + 1, matched, plainOnly);
    } else if (!plainOnly && text === '--') {
      result = step(index + 1, matched, true);
    } else if (!plainOnly && text.startsWith('-') && text !== '-') {
      const taken = consumes(text);
      result =
        taken === 'either'
          ? combine(
              () => step(index + 1, matched, plainOnly),
              () => step(index + 2, matched, plainOnly),
            )
          : step(index + taken, matched, plainOnly);
    } else {
      result = wanted[matched]!.test(text) && step(index + 1, matched + 1, plainOnly);
    }
    memo.set(key, result);
    return result;
  };
  return step(0, 0, false);
}

/** Whether an option pattern word (`-f`, `--force`, `-rf`) is given among the options. */
function optionGiven(option: string, words: RuleSubject['words'], mode: MatchMode): boolean {
  const glob = globRegex(option);
  const end = words.findIndex((word) => word.text === '--');
  const options = (end < 0 ? words : words.slice(0, end)).filter((word) => word.text.startsWith('-'));
  if (options.some((word) => glob.test(word.text))) return true;
  if (mode === 'all' || /[*?]/.test(option)) return false;
  // Asking or denying: `-rf` is also `-r -f` or `-fr`, `--force` also `--force=x`.
  if (option.startsWith('--'))
    return options.some((word) => word.text.split('=')[0] === option || word.dynamic === true);
  const letters = option.slice(1);
  const given = options
    .filter((word) => !word.text.startsWith('--'))
    .map((word) => word.text.slice(1))
    .join('');
  return [...letters].every((letter) => given.includes(letter)) || options.some((word) => word.dynamic);
}

/**
 * A command pattern: the first word is matched against the program (its file name unless the
 * pattern has a `/`), each further plain word against the command's plain words in order (options
 * and their values set aside, read with `spec`). A pattern word that is itself an option (`-rf`)
 * must appear among the options.
 */
export function matchesPattern(
  pattern: string[],
  subject: RuleSubject,
  options: { mode: MatchMode; specFor: (program: string) => OptionSpec | undefined },
): boolean {
  const [programPattern, ...rest] = pattern;
  const first = subject.words[0];
  if (!programPattern || !first) return false;
  if (pattern.length === 1 && programPattern === '*') return true;
  if (first.dynamic === true && options.mode === 'all') return false;
  const program = programPattern.includes('/') ? first.text : programName(first.text);
  if (first.dynamic !== true && !globRegex(programPattern).test(program)) return false;
  const words = subject.words.slice(1);
  const wanted = rest.filter((part) => !part.startsWith('-')).map(globRegex);
  for (const option of rest.filter((part) => part.startsWith('-')))
    if (!optionGiven(option, words, options.mode)) return false;
  // Not a shell command (SQL): a `-` word is a flag of its own. Asking or denying, every option
  // is read both ways: a spec that calls a flag what takes a value must not let a command past.
  const spec = options.specFor(program) ?? {};
  const consumes = !subject.shell
    ? () => 1 as const
    : options.mode === 'any'
      ? () => 'either' as const
      : (text: string) => optionConsumes(text, spec);
  return plainWordsMatch(words, wanted, consumes, options.mode);
}

/** The segment's words begin with exactly these words, none of them only known at run time. */
export function matchesPrefix(prefix: string[], subject: RuleSubject): boolean {
  if (prefix.length === 0 || subject.words.length < prefix.length) return false;
  return prefix.every((word, index) => {
    const actual = subject.words[index]!;
    return actual.dynamic !== true && actual.text === word;
  });
}

/** The segment is exactly these words: the same words, as many, none only known at run time. */
export function matchesExact(words: string[], subject: RuleSubject): boolean {
  return words.length === subject.words.length && matchesPrefix(words, subject);
}

/** A rule's `match:` regular expression; a leading `(?i)` makes it ignore case. */
export function ruleRegex(source: string): RegExp {
  return source.startsWith('(?i)') ? new RegExp(source.slice(4), 'i') : new RegExp(source);
}

export type { ShellWord };
