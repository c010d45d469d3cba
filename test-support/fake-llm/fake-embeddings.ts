import { createHash } from 'node:crypto';

/** Dimensions of the fake embeddings. */
export const FAKE_EMBEDDING_DIMENSIONS = 256;

/** Words too common to carry meaning, left out so that texts about different things stay apart. */
const STOP_WORDS = new Set(
  'a an and are as at be by do does for from how i in is it its of on or our the this to we what when where which who why with you'.split(
    ' ',
  ),
);

/**
 * A deterministic embedding: a hashed bag of words (lower-cased, the first 5 letters of each word
 * so that "failover" and "failing" meet), L2-normalised. Texts sharing words are near in cosine
 * distance; it knows no synonyms, which is what a test of the fusion needs.
 */
export function fakeEmbedding(text: string): number[] {
  const vector = new Array<number>(FAKE_EMBEDDING_DIMENSIONS).fill(0);
  for (const word of text.toLowerCase().match(/[a-z0-9]+/g) ?? []) {
    if (STOP_WORDS.has(word)) continue;
    const digest = createHash('sha256').update(word.slice(0, 5)).digest();
    const index = digest.readUInt16BE(0) % FAKE_EMBEDDING_DIMENSIONS;
    vector[index]! += (digest[2]! & 1) === 0 ? 1 : -1;
  }
  const norm = Math.sqrt(vector.reduce((sum, value) => sum + value * value, 0)) || 1;
  return vector.map((value) => value / norm);
}
