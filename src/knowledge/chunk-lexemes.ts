import type { SqlQueries } from './sql-store.js';

/**
 * What a store makes of words: for each word, its lexemes, each as often as the word yields it
 * (none for a stop word or punctuation).
 */
export type WordAnalyser = (words: readonly string[]) => Promise<ReadonlyArray<readonly string[]>>;

/**
 * A chunk's lexemes and their counts (and, for PostgreSQL, its tsvector), built in JavaScript
 * from the store's own analysis of each word.
 *
 * PostgreSQL's `to_tsvector('english', text)` spent 75-80 % of an ingest in its text parser and
 * stemmer, run on every byte of every chunk (docs/benchmarks.md). Its parser never makes a token
 * across ASCII whitespace, so analysing each whitespace-separated word on its own gives the same
 * lexemes, with the same counts, as analysing the whole text. A corpus repeats its words, so each
 * distinct word is sent to the database once per write (`to_tsvector('english', word)`, the
 * configuration the searches use), and every chunk's tsvector is assembled here from those
 * answers. The stemmer and stop words stay the database's: the same on PGlite and PostgreSQL, and
 * the same as the question's `to_tsvector` at search time.
 *
 * The tsvector holds what BM25 reads and no more: each lexeme of the title, heading path and
 * content, and how often it occurs there, as that many positions (1, 2, ... n), none when it
 * occurs once. Real positions and field weights would double the text the database parses, and
 * the ranking uses neither (fields weigh the same, measured on both bench corpora).
 * `knowledge-base.test.ts` checks the lexemes and counts equal `to_tsvector` of the whole fields,
 * on both stores.
 */

/** PostgreSQL's parser splits on these; no token holds one. */
const WHITESPACE = /[ \t\n\r\f\v]+/;
/** Words analysed per query. */
const LOOKUP_BATCH = 5_000;
/** A tsvector lexeme keeps at most 256 positions, so a count above that is read as 256. */
const MAX_COUNT = 256;

export interface ChunkFields {
  title: string;
  headingPath: string;
  content: string;
}

export interface ChunkLexemes {
  /** tsvector input text: `'lexeme' 'other':1,2,3 ...` (empty unless the cache builds it). */
  tsvector: string;
  /** The distinct lexemes (what kb_terms counts). */
  lexemes: string[];
  /** How often each of `lexemes` occurs in the chunk. */
  counts: number[];
}

/** `:1,2,...,n` for a lexeme occurring n times (nothing for once), built once per n. */
const positionLists: string[] = ['', ''];
function positionList(count: number): string {
  const n = Math.min(count, MAX_COUNT);
  for (let next = positionLists.length; next <= n; next++) {
    positionLists[next] = `${next === 2 ? ':1' : positionLists[next - 1]},${next}`;
  }
  return positionLists[n]!;
}

/** No lexeme: stop words, punctuation. */
const NONE = new Int32Array(0);

/**
 * One store's word analyses, kept for the length of one write. Lexemes are numbered as they are
 * met, so a chunk is counted in a reused array (no map, no garbage per word).
 */
export class LexemeCache {
  readonly #analyse: WordAnalyser;
  readonly #tsvector: boolean;
  /** A word's lexemes, by number, each repeated as often as it occurs in the word. */
  readonly #words = new Map<string, Int32Array>();
  /** A title's or heading path's lexemes, as a word's: chunks repeat them. */
  readonly #fields = new Map<string, Int32Array>();
  readonly #numbers = new Map<string, number>();
  readonly #lexemes: string[] = [];
  /** `'lexeme'`, quoted and escaped for tsvector input, by number. */
  readonly #quoted: string[] = [];
  #counts = new Int32Array(1024);
  readonly #touched: number[] = [];

  /** `tsvector`: also build each chunk's tsvector input text (PostgreSQL's stores). */
  constructor(analyse: WordAnalyser, options: { tsvector: boolean }) {
    this.#analyse = analyse;
    this.#tsvector = options.tsvector;
  }

  /**
   * The lexemes of `chunks` (one batch of documents), after analysing every word not seen yet. Each text is split once. The titles and heading paths of the last batch are let
   * go (a source has as many as it has sections; its vocabulary, kept, grows far slower).
   */
  async analyse(chunks: readonly ChunkFields[]): Promise<ChunkLexemes[]> {
    this.#fields.clear();
    const unknown = new Set<string>();
    const collect = (words: readonly string[]) => {
      for (const word of words) if (word !== '' && !this.#words.has(word)) unknown.add(word);
    };
    const fieldWords = new Map<string, string[]>();
    const contentWords = chunks.map((chunk) => {
      for (const field of [chunk.title, chunk.headingPath]) {
        if (fieldWords.has(field)) continue;
        const words = field.split(WHITESPACE);
        fieldWords.set(field, words);
        collect(words);
      }
      const words = chunk.content.split(WHITESPACE);
      collect(words);
      return words;
    });
    await this.#lookUp([...unknown]);
    for (const [field, words] of fieldWords) this.#fields.set(field, this.#numbersOf(words));
    return chunks.map((chunk, index) => {
      this.#count(this.#fields.get(chunk.title)!);
      this.#count(this.#fields.get(chunk.headingPath)!);
      for (const word of contentWords[index]!) if (word !== '') this.#count(this.#words.get(word)!);
      return this.#collected();
    });
  }

  /** Asks the store's analyser for the lexemes of each of `words`. */
  async #lookUp(words: readonly string[]): Promise<void> {
    for (let start = 0; start < words.length; start += LOOKUP_BATCH) {
      const batch = words.slice(start, start + LOOKUP_BATCH);
      const analysed = await this.#analyse(batch);
      batch.forEach((word, index) => {
        const lexemes = analysed[index] ?? [];
        this.#words.set(
          word,
          lexemes.length === 0 ? NONE : Int32Array.from(lexemes, (lexeme) => this.#number(lexeme)),
        );
      });
    }
  }

  /** The lexemes counted since the last call (and their tsvector), and the counts reset. */
  #collected(): ChunkLexemes {
    let tsvector = '';
    const lexemes: string[] = [];
    const counts: number[] = [];
    for (const number of this.#touched) {
      const count = this.#counts[number]!;
      if (this.#tsvector)
        tsvector += `${tsvector === '' ? '' : ' '}${this.#quoted[number]!}${positionList(count)}`;
      lexemes.push(this.#lexemes[number]!);
      counts.push(count);
      this.#counts[number] = 0;
    }
    this.#touched.length = 0;
    return { tsvector, lexemes, counts };
  }

  /** A title's or heading path's lexemes, all its words' in a row. */
  #numbersOf(words: readonly string[]): Int32Array {
    const all: number[] = [];
    for (const word of words) if (word !== '') all.push(...this.#words.get(word)!);
    return Int32Array.from(all);
  }

  #count(numbers: Int32Array): void {
    const counts = this.#counts;
    for (const number of numbers) {
      const count = counts[number]!;
      if (count === 0) this.#touched.push(number);
      counts[number] = count + 1;
    }
  }

  #number(lexeme: string): number {
    let number = this.#numbers.get(lexeme);
    if (number === undefined) {
      number = this.#lexemes.length;
      this.#numbers.set(lexeme, number);
      this.#lexemes.push(lexeme);
      if (this.#tsvector) this.#quoted.push(`'${escapeLexeme(lexeme)}'`);
      if (number >= this.#counts.length) {
        const grown = new Int32Array(this.#counts.length * 2);
        grown.set(this.#counts);
        this.#counts = grown;
      }
    }
    return number;
  }
}

/**
 * PostgreSQL's analysis: `to_tsvector('english', word)` of each word, the configuration the
 * searches use, a batch of words per query.
 */
export function postgresWordAnalyser(store: SqlQueries): WordAnalyser {
  return async (words) => {
    const rows = await store.query<{ i: number; lexeme: string; n: number }>(
      `select x.i::int as i, u.lexeme, cardinality(u.positions)::int as n
       from unnest($1::text[]) with ordinality as x(word, i)
       cross join lateral unnest(to_tsvector('english', x.word)) as u`,
      [words],
    );
    const analysed: string[][] = words.map(() => []);
    for (const row of rows) {
      const lexemes = analysed[row.i - 1]!;
      for (let occurrence = 0; occurrence < row.n; occurrence++) lexemes.push(row.lexeme);
    }
    return analysed;
  };
}

/** A lexeme inside tsvector input's quotes: a quote doubled, a backslash escaped. */
function escapeLexeme(lexeme: string): string {
  return lexeme.replace(/[\\']/g, (char) => (char === "'" ? "''" : '\\\\'));
}
