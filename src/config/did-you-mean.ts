/** The candidate closest to `word` (case-insensitive edit distance), if it is close enough to be a typo. */
export function didYouMean(word: string, candidates: Iterable<string>): string | undefined {
  const target = word.toLowerCase();
  let best: { name: string; distance: number } | undefined;
  for (const name of candidates) {
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
