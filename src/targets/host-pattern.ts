import { ConfigError } from '../errors/opsmate-error.js';
import { didYouMean } from '../config/did-you-mean.js';

/** What a pattern chooses from: every host in order, and the hosts of every group. */
export interface PatternUniverse {
  hosts: readonly string[];
  groups: ReadonlyMap<string, readonly string[]>;
}

/** Whether a `-t` value is a pattern (`a:b`, `a:&b`, `a:!b`, `web*`, `a,b`) rather than one name. */
export function isHostPattern(text: string): boolean {
  return /[:,&!*?~]/.test(text);
}

/**
 * The hosts an Ansible-style pattern selects, in inventory order: terms separated by `:` or `,`;
 * a plain term adds (union), `&term` keeps only hosts also in it (intersection), `!term` removes
 * (exclusion), in that order whatever the order written, as Ansible does. A term is a group, a
 * host, `all` or `*`, a glob (`web*`) or `~regex`. A term that matches nothing is an error (with
 * the closest name), so a typo cannot shrink a fleet unseen.
 */
export function selectHosts(pattern: string, universe: PatternUniverse): string[] {
  const terms = splitTerms(pattern);
  if (terms.length === 0) throw patternError(pattern, 'is empty');
  const union = new Set<string>();
  const intersections: Set<string>[] = [];
  const exclusions = new Set<string>();
  for (const raw of terms) {
    const operator = raw.startsWith('&') ? '&' : raw.startsWith('!') ? '!' : '';
    const term = raw.slice(operator.length);
    const matched = matchTerm(term, universe, pattern);
    if (operator === '&') intersections.push(new Set(matched));
    else if (operator === '!') for (const host of matched) exclusions.add(host);
    else for (const host of matched) union.add(host);
  }
  if (union.size === 0 && terms.every((term) => term.startsWith('&') || term.startsWith('!'))) {
    for (const host of universe.hosts) union.add(host);
  }
  return universe.hosts.filter(
    (host) => union.has(host) && intersections.every((set) => set.has(host)) && !exclusions.has(host),
  );
}

/** The terms of a pattern as written, operators (`&`, `!`) kept: `web:&prod` is `web`, `&prod`. */
export function patternTerms(pattern: string): string[] {
  return splitTerms(pattern);
}

/** Whether a glob (`web*`) or `~regex` term matches a name; false for a plain term or a bad regex. */
export function matchesName(term: string, name: string): boolean {
  try {
    return nameTest(term)?.(name) ?? false;
  } catch {
    return false;
  }
}

function nameTest(term: string): ((name: string) => boolean) | undefined {
  if (term.startsWith('~')) {
    const regex = new RegExp(term.slice(1));
    return (name) => regex.test(name);
  }
  if (!/[*?]/.test(term)) return undefined;
  const regex = new RegExp(
    `^${term
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replaceAll('*', '.*')
      .replaceAll('?', '.')}$`,
  );
  return (name) => regex.test(name);
}

function splitTerms(pattern: string): string[] {
  // `:` inside [..] is a range, and a regex term takes the rest of its term.
  const terms: string[] = [];
  let current = '';
  let depth = 0;
  for (const character of pattern) {
    if (character === '[') depth += 1;
    if (character === ']') depth = Math.max(0, depth - 1);
    if ((character === ':' || character === ',') && depth === 0 && !current.startsWith('~')) {
      if (current.trim() !== '') terms.push(current.trim());
      current = '';
      continue;
    }
    current += character;
  }
  if (current.trim() !== '') terms.push(current.trim());
  return terms;
}

function matchTerm(term: string, universe: PatternUniverse, pattern: string): readonly string[] {
  if (term === 'all' || term === '*') return universe.hosts;
  const group = universe.groups.get(term);
  if (group) return group;
  if (universe.hosts.includes(term)) return [term];
  let test: ((name: string) => boolean) | undefined;
  try {
    test = nameTest(term);
  } catch {
    throw patternError(pattern, `has a bad regular expression ${term}`);
  }
  if (test) {
    const hosts = new Set(universe.hosts.filter(test));
    for (const [name, members] of universe.groups)
      if (test(name)) for (const host of members) hosts.add(host);
    if (hosts.size > 0) return [...hosts];
  }
  const names = [...universe.groups.keys(), ...universe.hosts];
  const guess = didYouMean(term, names);
  throw new ConfigError(`target pattern ${JSON.stringify(pattern)}: ${term} matches no target or group`, {
    hint: guess
      ? `did you mean ${guess}? See opsmate list-targets`
      : 'see opsmate list-targets for the names',
  });
}

function patternError(pattern: string, message: string): ConfigError {
  return new ConfigError(`target pattern ${JSON.stringify(pattern)} ${message}`, {
    hint: "patterns are Ansible's: a:b (either), a:&b (both), a:!b (a but not b), web* (glob)",
  });
}
