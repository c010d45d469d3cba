import { readFileSync } from 'node:fs';
import { stem } from 'porter2';

let stopWords: Set<string> | undefined;

/** PostgreSQL's english stop words (english-stop-words.txt, read once). */
function englishStopWords(): Set<string> {
  if (stopWords) return stopWords;
  const text = readFileSync(new URL('./english-stop-words.txt', import.meta.url), 'utf8');
  stopWords = new Set(text.split('\n').filter((line) => line !== '' && !line.startsWith('#')));
  return stopWords;
}

/** A token: a run of letters, digits and combining marks. Everything else separates. */
const TOKEN = /[\p{L}\p{N}\p{M}]+/gu;
/** Longer tokens (a base64 blob, a minified line) are no words anyone searches for. */
const MAX_TOKEN = 256;
const ASCII_WORD = /^[a-z]+$/;
/** Scripts written without spaces between words: their runs are cut into words by ICU. */
const UNSPACED =
  /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Thai}\p{Script=Lao}\p{Script=Khmer}\p{Script=Myanmar}]/u;
let segmenter: Intl.Segmenter | undefined;

/**
 * The lexemes of one whitespace-free word for the embedded (SQLite) store, made the way
 * PostgreSQL's `to_tsvector('english', word)` makes them as closely as a small analyser can: the
 * word cut at every character that is not a letter, digit or mark, lower-cased, PostgreSQL's
 * english stop words dropped, and words of ASCII letters stemmed with Porter2 (PostgreSQL's
 * english Snowball stemmer: the same stems on every word of the bench corpora). Tokens with
 * digits or other letters are kept as written; runs of scripts written without spaces (Chinese,
 * Japanese, Thai...) are cut into words by ICU's word segmenter (PostgreSQL keeps such a run as
 * one word, so only its exact run is found there). It differs from PostgreSQL on what its parser
 * keeps whole (host names, URLs, paths, versions: here they are their parts), which only the
 * team's PostgreSQL store ranks by; within one store, ingest and search analyse alike.
 */
export function englishLexemes(word: string): string[] {
  const lexemes: string[] = [];
  const stop = englishStopWords();
  for (const [token] of word.normalize('NFKC').toLowerCase().matchAll(TOKEN)) {
    if (UNSPACED.test(token)) {
      segmenter ??= new Intl.Segmenter(undefined, { granularity: 'word' });
      for (const part of segmenter.segment(token)) {
        if (part.isWordLike && part.segment.length <= MAX_TOKEN) lexemes.push(part.segment);
      }
      continue;
    }
    if (token.length > MAX_TOKEN || stop.has(token)) continue;
    lexemes.push(ASCII_WORD.test(token) ? stem(token) : token);
  }
  return lexemes;
}

/** The lexemes of a text (a question): every word's, in order, repeats kept. */
export function englishTextLexemes(text: string): string[] {
  return text.split(/\s+/).flatMap((word) => (word === '' ? [] : englishLexemes(word)));
}
