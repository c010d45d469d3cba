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
/** Bytes of lexemes a chunk's tsvector holds at most: PostgreSQL's limit is just under 1 MiB. */
const MAX_TSVECTOR_LEXEME_BYTES = 900_000;
/** A tsvector lexeme keeps at most 256 positions, so a count above that is read as 256. */
const MAX_COUNT = 256;

export interface ChunkFields {
  title: string;
  headingPath: string;
  content: string;
}

/**
 * One chunk's lexemes as {@link LexemeCache.analyse} hands them to its visitor: the first `length`
 * entries of `numbers` are its distinct lexemes (by number, see {@link LexemeCache.lexeme}), in the
 * order first met, and `counts` how often each occurs. The arrays are reused for the next chunk.
 */
export interface ChunkTerms {
  readonly numbers: Int32Array;
  readonly counts: Int32Array;
  readonly length: number;
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
/** Titles and heading paths kept between batches (chunks of a document repeat them) before the map is emptied. */
const MAX_FIELDS = 20_000;

/**
 * One store's word analyses, kept for the length of one write. Lexemes are numbered as they are
 * met, so a chunk is counted in reused arrays: no map and no garbage per word or per chunk. Each
 * word of a batch is looked up once: known words are resolved while the text is split, and only
 * the words never seen go to the analyser.
 */
export class LexemeCache {
  readonly #analyse: WordAnalyser;
  /** A word's lexemes, by number, each repeated as often as it occurs in the word. */
  readonly #words = new Map<string, Int32Array>();
  /** A title's lexemes, as a word's: a document's chunks repeat it. */
  readonly #fields = new Map<string, Int32Array>();
  readonly #numbers = new Map<string, number>();
  readonly #lexemes: string[] = [];
  /** `'lexeme'`, quoted and escaped for tsvector input, by number (built when first asked for). */
  readonly #quoted: string[] = [];
  /** Each lexeme's length in UTF-8, by number (the same). */
  readonly #lexemeBytes: number[] = [];
  /** In how many chunks each lexeme occurs, by number. */
  #chunkFrequency = new Int32Array(1024);
  #counts = new Int32Array(1024);
  #distinct = new Int32Array(256);
  #distinctCounts = new Int32Array(256);

  constructor(analyse: WordAnalyser) {
    this.#analyse = analyse;
  }

  /**
   * Analyses `chunks` (one batch of documents), then calls `visit` with each chunk's lexemes, in
   * order. Every word not seen yet is analysed first, in as few calls of the analyser as its
   * batch size allows. Each text is split once.
   */
  async analyse(
    chunks: readonly ChunkFields[],
    visit: (index: number, terms: ChunkTerms) => void,
  ): Promise<void> {
    if (this.#fields.size > MAX_FIELDS) this.#fields.clear();
    const unknown = new Map<string, number>();
    const pending: string[] = [];
    const pendingFields = new Map<string, string[]>();
    const field = (text: string) => {
      if (this.#fields.has(text) || pendingFields.has(text)) return;
      const words = text.split(WHITESPACE);
      for (const word of words)
        if (word !== '' && !this.#words.has(word) && !unknown.has(word)) unknown.set(word, -1);
      pendingFields.set(text, words);
    };
    // Pass 1: each word of a heading path and content, known, as its lexeme numbers in a row;
    // not known yet, as -1 - (its place in `pending`).
    let sequence = this.#sequence;
    let length = 0;
    const ends = new Int32Array(chunks.length);
    const words = this.#words;
    const append = (text: string) => {
      for (const word of text.split(WHITESPACE)) {
        if (word === '') continue;
        const numbers = words.get(word);
        if (length + (numbers?.length ?? 1) > sequence.length) {
          const grown = new Int32Array(Math.max(sequence.length * 2, length + (numbers?.length ?? 1)));
          grown.set(sequence.subarray(0, length));
          sequence = grown;
        }
        if (numbers === undefined) {
          let place = unknown.get(word);
          if (place === undefined || place === -1) {
            place = pending.length;
            pending.push(word);
            unknown.set(word, place);
          }
          sequence[length++] = -1 - place;
        } else {
          for (let at = 0; at < numbers.length; at++) sequence[length++] = numbers[at]!;
        }
      }
    };
    chunks.forEach((chunk, index) => {
      // A title is shared by its document's chunks; a heading path is nearly always new.
      field(chunk.title);
      append(chunk.headingPath);
      append(chunk.content);
      ends[index] = length;
    });
    this.#sequence = sequence;
    await this.#lookUp([...unknown.keys()]);
    for (const [text, fieldWords] of pendingFields) this.#fields.set(text, this.#numbersOf(fieldWords));
    // Pass 2: count each chunk's lexemes.
    const counts = this.#counts;
    let touched = this.#touched;
    let at = 0;
    const terms = { numbers: this.#distinct, counts: this.#distinctCounts, length: 0 };
    /** Counts `numbers` into `counts`, each lexeme new to the chunk into `touched`; returns the chunk's distinct lexemes. */
    const add = (numbers: Int32Array, distinct: number) => {
      for (let next = 0; next < numbers.length; next++) {
        const number = numbers[next]!;
        const count = counts[number]!;
        if (count === 0) touched[distinct++] = number;
        counts[number] = count + 1;
      }
      return distinct;
    };
    chunks.forEach((chunk, index) => {
      let distinct = 0;
      const end = ends[index]!;
      // A chunk has at most as many distinct lexemes as its fields and content have lexemes.
      const title = this.#fields.get(chunk.title)!;
      const most = title.length + (end - at) * this.#longestWord;
      if (most > touched.length) touched = this.#touched = new Int32Array(most * 2);
      distinct = add(title, distinct);
      for (; at < end; at++) {
        const number = sequence[at]!;
        if (number >= 0) {
          const count = counts[number]!;
          if (count === 0) touched[distinct++] = number;
          counts[number] = count + 1;
        } else distinct = add(words.get(pending[-1 - number]!)!, distinct);
      }
      terms.length = this.#collect(distinct);
      terms.numbers = this.#distinct;
      terms.counts = this.#distinctCounts;
      visit(index, terms);
    });
  }

  /** The lexeme numbered `number`. */
  lexeme(number: number): string {
    return this.#lexemes[number]!;
  }

  /**
   * A chunk's tsvector input text, `'lexeme' 'other':1,2,3 ...`: each lexeme with as many
   * positions as it occurs (none when once).
   */
  tsvector(terms: ChunkTerms): string {
    let text = '';
    let bytes = 0;
    for (let index = 0; index < terms.length; index++) {
      const number = terms.numbers[index]!;
      const quoted = (this.#quoted[number] ??= `'${escapeLexeme(this.#lexemes[number]!)}'`);
      // PostgreSQL refuses a tsvector whose lexemes add up to 1 MiB (a chunk of a word list, a
      // dump): the lexemes met first are kept, so the chunk is stored and found by them.
      bytes += this.#lexemeBytes[number] ??= Buffer.byteLength(this.#lexemes[number]!);
      if (bytes > MAX_TSVECTOR_LEXEME_BYTES) break;
      text += `${index === 0 ? '' : ' '}${quoted}${positionList(terms.counts[index]!)}`;
    }
    return text;
  }

  /** Each lexeme of the chunks analysed so far, with how many of them hold it. */
  chunkFrequencies(): Map<string, number> {
    const frequencies = new Map<string, number>();
    for (let number = 0; number < this.#lexemes.length; number++) {
      const chunks = this.#chunkFrequency[number]!;
      if (chunks > 0) frequencies.set(this.#lexemes[number]!, chunks);
    }
    return frequencies;
  }

  /** Asks the store's analyser for the lexemes of each of `words`. */
  async #lookUp(words: readonly string[]): Promise<void> {
    for (let start = 0; start < words.length; start += LOOKUP_BATCH) {
      const batch = words.slice(start, start + LOOKUP_BATCH);
      const analysed = await this.#analyse(batch);
      batch.forEach((word, index) => {
        const lexemes = analysed[index] ?? [];
        if (lexemes.length > this.#longestWord) this.#longestWord = lexemes.length;
        this.#words.set(
          word,
          lexemes.length === 0 ? NONE : Int32Array.from(lexemes, (lexeme) => this.#number(lexeme)),
        );
      });
    }
  }

  /**
   * Moves the `length` lexemes counted for a chunk (in `#touched`) into the distinct arrays
   * (grown as needed), adds the chunk to their frequencies and resets their counts; returns
   * `length`.
   */
  #collect(length: number): number {
    const counts = this.#counts;
    const touched = this.#touched;
    if (length > this.#distinct.length) {
      this.#distinct = new Int32Array(length * 2);
      this.#distinctCounts = new Int32Array(length * 2);
    }
    const distinct = this.#distinct;
    const distinctCounts = this.#distinctCounts;
    const frequency = this.#chunkFrequency;
    for (let at = 0; at < length; at++) {
      const number = touched[at]!;
      distinct[at] = number;
      distinctCounts[at] = counts[number]!;
      frequency[number]!++;
      counts[number] = 0;
    }
    return length;
  }

  /** The lexemes a chunk touched, while it is counted. */
  #touched = new Int32Array(1024);
  /** The batch's content words as lexeme numbers (see analyse). */
  #sequence = new Int32Array(1 << 16);
  /** The most lexemes one word has yielded. */
  #longestWord = 1;

  /** A title's or heading path's lexemes, all its words' in a row. */
  #numbersOf(words: readonly string[]): Int32Array {
    let length = 0;
    for (const word of words) if (word !== '') length += this.#words.get(word)!.length;
    const all = new Int32Array(length);
    let at = 0;
    for (const word of words) {
      if (word === '') continue;
      const numbers = this.#words.get(word)!;
      all.set(numbers, at);
      at += numbers.length;
    }
    return all;
  }

  #number(lexeme: string): number {
    let number = this.#numbers.get(lexeme);
    if (number === undefined) {
      number = this.#lexemes.length;
      this.#numbers.set(lexeme, number);
      this.#lexemes.push(lexeme);
      if (number >= this.#counts.length) {
        const size = this.#counts.length * 2;
        const counts = new Int32Array(size);
        counts.set(this.#counts);
        this.#counts = counts;
        const frequency = new Int32Array(size);
        frequency.set(this.#chunkFrequency);
        this.#chunkFrequency = frequency;
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
