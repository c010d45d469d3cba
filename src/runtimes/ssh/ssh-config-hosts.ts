import { readdirSync, readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { basename, dirname, isAbsolute, join } from 'node:path';
import SSHConfig, { glob, LineType, type Line } from 'ssh-config';

/** Most files one config may pull in through `Include`, so a loop or a huge glob stays bounded. */
const MAX_INCLUDED_FILES = 256;

/** Whether a Host word is a pattern (`web-*`, `!web-test`) rather than one alias. */
function isPattern(word: string): boolean {
  return /[*?!]/.test(word);
}

/** `web-* !web-test` or `web-*,db-?`: ssh's pattern list, whitespace or comma separated. */
export function sshPatternList(selector: string): string[] {
  const patterns = selector.split(/[\s,]+/).filter((word) => word !== '');
  if (patterns.length === 0) throw new Error('the selector has no Host pattern');
  if (patterns.every((pattern) => pattern.startsWith('!')))
    throw new Error('the selector only excludes (every pattern starts with !): add one that includes');
  return patterns;
}

/**
 * Every alias the Host lines of an ssh config name, in file order, each once, with `Include`d
 * files read where they are included (relative paths from ~/.ssh, as ssh reads them). Patterns
 * (`*`, `?`, `!`) are not aliases: they are settings for whatever matches them.
 */
export function sshConfigAliases(options: { file: string; sshDir: string }): string[] {
  const aliases: string[] = [];
  const seen = new Set<string>();
  let files = 0;
  const visit = (lines: readonly Line[]): void => {
    for (const line of lines) {
      if (line.type !== LineType.DIRECTIVE) continue;
      const param = line.param.toLowerCase();
      if (param === 'include') {
        for (const word of words(line.value))
          for (const file of includedFiles(word, options.sshDir)) read(file);
      } else if (param === 'host') {
        for (const word of words(line.value))
          if (!isPattern(word) && !seen.has(word)) {
            seen.add(word);
            aliases.push(word);
          }
      }
      if ('config' in line && Array.isArray(line.config)) visit(line.config);
    }
  };
  const read = (file: string): void => {
    if (++files > MAX_INCLUDED_FILES)
      throw new Error(`more than ${MAX_INCLUDED_FILES} files through Include`);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      // ssh itself skips an Include that matches nothing; the top file must exist.
      if (file === options.file)
        throw new Error(`cannot read ${file}: ${(error as Error).message}`, { cause: error });
      return;
    }
    visit(SSHConfig.parse(text));
  };
  read(options.file);
  return aliases;
}

function words(value: unknown): string[] {
  if (typeof value === 'string') return value.split(/\s+/).filter((word) => word !== '');
  if (Array.isArray(value))
    return value.map((part: { val?: unknown }) => String(part.val ?? '')).filter((word) => word !== '');
  return [];
}

/** The files an `Include` word names: `~` expanded, relative to ~/.ssh, `*` and `?` in the file name. */
function includedFiles(word: string, sshDir: string): string[] {
  const expanded = word.startsWith('~/') ? join(userInfo().homedir, word.slice(2)) : word;
  const path = isAbsolute(expanded) ? expanded : join(sshDir, expanded);
  const name = basename(path);
  if (!/[*?]/.test(name)) return [path];
  let entries: string[];
  try {
    entries = readdirSync(dirname(path));
  } catch {
    return [];
  }
  return entries
    .filter((entry) => glob(name, entry))
    .sort()
    .map((entry) => join(dirname(path), entry));
}

/** The aliases of `file` (and its Includes) that a selector's patterns match, in file order. */
export function matchingAliases(options: { selector: string; file: string; sshDir: string }): string[] {
  const patterns = sshPatternList(options.selector);
  return sshConfigAliases(options).filter((alias) => glob(patterns, alias));
}
