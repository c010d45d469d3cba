import { readFileSync } from 'node:fs';

let groups: Map<string, string[]> | undefined;

/** Word → the other words of its groups, from ops-synonyms.txt (read once). */
function synonymGroups(): Map<string, string[]> {
  if (groups) return groups;
  groups = new Map();
  const text = readFileSync(new URL('./ops-synonyms.txt', import.meta.url), 'utf8');
  for (const line of text.split('\n')) {
    if (line.trim() === '' || line.startsWith('#')) continue;
    const words = line.trim().toLowerCase().split(/\s+/);
    for (const word of words) {
      const others = words.filter((other) => other !== word);
      groups.set(word, [...new Set([...(groups.get(word) ?? []), ...others])]);
    }
  }
  return groups;
}

/**
 * The words an operator may mean besides those of `query` ("signed out" → session, "bucket" →
 * s3), for full-text search to weigh below the query's own words. Hyphenated group entries
 * ("rate-limit") are matched as written and searched as their parts.
 */
export function expandQuery(query: string): string {
  const table = synonymGroups();
  const lower = query.toLowerCase();
  const words = lower.match(/[a-z0-9][a-z0-9._-]*/g) ?? [];
  const candidates = new Set<string>();
  for (const word of words) {
    for (const form of [word, word.replace(/[._-]+$/, '')]) {
      for (const other of table.get(form) ?? []) candidates.add(other);
    }
  }
  for (let index = 0; index + 1 < words.length; index++) {
    for (const other of table.get(`${words[index]}-${words[index + 1]}`) ?? []) candidates.add(other);
  }
  const present = new Set(words);
  return [...candidates]
    .filter((word) => !present.has(word))
    .map((word) => word.replace(/-/g, ' '))
    .join(' ');
}
