/**
 * Last words of a setting's name that other tools use for what opsmate names otherwise: no typo,
 * so edit distance misses them (PROMETHEUS_URL is nearer PROMETHEUS_FROM than _ENDPOINT).
 */
const OTHER_NAMES: ReadonlyArray<readonly [RegExp, string]> = [
  [/_(URL|ADDRESS|ADDR|SERVER|ENDPOINT_URL)$/i, '_ENDPOINT'],
  [/_(TOKEN|PASSWORD|PASS|SECRET|APIKEY|KEY)$/i, '_API_KEY'],
  [/_(USER|USERNAME|LOGIN)$/i, '_USER_ID'],
  [/_(CA|CA_CERT|CACERT|CA_PATH|CA_BUNDLE)$/i, '_CA_FILE'],
  [/_(INSECURE|SKIP_VERIFY|INSECURE_SKIP_VERIFY|NO_VERIFY)$/i, '_TLS_SKIP_VERIFY'],
  [/_(URL|ENDPOINT)$/i, '_BASE_URL'],
];

/**
 * The candidate `word` most likely means: one whose name differs only by a word other tools use
 * (`PROMETHEUS_URL` → `PROMETHEUS_ENDPOINT`), else the closest by case-insensitive edit distance,
 * if it is close enough to be a typo.
 */
export function didYouMean(word: string, candidates: Iterable<string>): string | undefined {
  const names = [...candidates];
  const byName = new Map(names.map((name) => [name.toLowerCase(), name]));
  for (const [pattern, replacement] of OTHER_NAMES) {
    if (!pattern.test(word)) continue;
    const renamed = byName.get(word.replace(pattern, replacement).toLowerCase());
    if (renamed !== undefined && renamed.toLowerCase() !== word.toLowerCase()) return renamed;
  }
  const target = word.toLowerCase();
  let best: { name: string; distance: number } | undefined;
  for (const name of names) {
    const distance = editDistance(target, name.toLowerCase());
    if (!best || distance < best.distance) best = { name, distance };
  }
  if (!best) return undefined;
  // A third of the word may be wrong, and at least one letter: RUNTIME_SSH_HOTS, OPSMATE_MODLE.
  return best.distance <= Math.max(1, Math.floor(word.length / 3)) ? best.name : undefined;
}

/** Damerau-Levenshtein distance (a swap of two neighbours counts as one edit). */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const columns = b.length + 1;
  const table: number[][] = Array.from({ length: rows }, (_, row) =>
    Array.from({ length: columns }, (_, column) => (row === 0 ? column : column === 0 ? row : 0)),
  );
  for (let row = 1; row < rows; row++) {
    for (let column = 1; column < columns; column++) {
      const cost = a[row - 1] === b[column - 1] ? 0 : 1;
      let value = Math.min(
        table[row - 1]![column]! + 1,
        table[row]![column - 1]! + 1,
        table[row - 1]![column - 1]! + cost,
      );
      if (row > 1 && column > 1 && a[row - 1] === b[column - 2] && a[row - 2] === b[column - 1]) {
        value = Math.min(value, table[row - 2]![column - 2]! + 1);
      }
      table[row]![column] = value;
    }
  }
  return table[a.length]![b.length]!;
}
