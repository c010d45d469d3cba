import { readFileSync, rmdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type * as SqliteWasm from 'node-sqlite3-wasm';
import type { Database, SQLiteValue, Statement } from 'node-sqlite3-wasm';
import { OpsmateError } from '../errors/opsmate-error.js';
import { processAlive } from '../process/file-lock.js';
import { LexemeCache, type ChunkTerms, type WordAnalyser } from './chunk-lexemes.js';
import { englishLexemes, englishTextLexemes } from './english-words.js';
import {
  BM25_B,
  chunkRowsOf,
  BM25_K1,
  CANDIDATES,
  COARSE_CANDIDATES,
  POSTINGS_BUDGET,
  SYNONYM_WEIGHT,
  embeddingText,
  fuseRankings,
  hitFrom,
  type ChunkRow,
  type KnowledgeBase,
  type KnowledgeHit,
  type KnowledgeSource,
  type KnowledgeStats,
  type Ranking,
  type SearchOptions,
  type SourceRow,
  type SourceSummary,
  type StatsTotals,
  type WriteSourceOptions,
  knowledgeStats,
  MODELS_SQL,
  sourceSummary,
  SOURCES_SQL,
  TOTALS_SQL,
} from './knowledge-base.js';
import { expandQuery } from './query-expansion.js';
import { holdStoreLock } from './store-lock.js';

/** Bumped when the tables change. */
export const SQLITE_SCHEMA_VERSION = '1';

/**
 * The embedded store's tables. Lexemes (from english-words.ts) are stored as FTS5 tokens (see
 * ftsToken) everywhere. A chunk's `terms` holds its lexemes with their counts (see termsText),
 * what BM25 scores it by, and `lexemes` how many there are (its length).
 * `kb_fts` is a contentless FTS5 index of each chunk's distinct lexemes, used as an inverted
 * index only: which chunks hold a lexeme (`detail=none`: no positions). The lexemes are analysed
 * before they reach it, so its tokenizer only splits them apart again. `kb_terms` holds each
 * lexeme's document frequency per source, as on PostgreSQL. There are no foreign keys: checking
 * them was a fifth of a write, and every delete is written out (a source's or a document's rows
 * go together, in one transaction).
 * Chunk ids are never reused (AUTOINCREMENT): a citation names a chunk by id.
 */
const TABLES = `
create table if not exists kb_meta (key text primary key, value text not null);
create table if not exists kb_sources (
  name text primary key,
  origin text not null,
  kind text not null,
  root text not null,
  glob text not null,
  branch text,
  chunk_count integer not null default 0,
  lexeme_count integer not null default 0,
  updated_at text not null
);
create table if not exists kb_documents (
  source text not null,
  path text not null,
  hash text not null,
  bytes integer not null,
  redactions integer not null default 0,
  ingested_at text not null,
  primary key (source, path)
) without rowid;
create table if not exists kb_chunks (
  id integer primary key autoincrement,
  source text not null,
  path text not null,
  ordinal integer not null,
  title text not null,
  heading_path text not null,
  start_line integer not null,
  end_line integer not null,
  content text not null,
  terms text not null,
  lexemes integer not null,
  embedding_model text,
  embedding blob
);
create index if not exists kb_chunks_document on kb_chunks (source, path);
create table if not exists kb_terms (
  source text not null,
  lexeme text not null,
  chunks integer not null,
  primary key (source, lexeme)
) without rowid;
create virtual table if not exists kb_fts using fts5(
  lexemes, content='', contentless_delete=1, detail=none, tokenize="unicode61 remove_diacritics 0 tokenchars '_'"
);`;

/**
 * Connection settings, before anything is read.
 * - A write-ahead log in exclusive locking mode. The WASM build's file locking cannot tell a
 *   rollback journal left by a killed process from its own lock, so such a journal was never
 *   rolled back and the next open read a half-written file (the crash test found it). A WAL is
 *   recovered on open from its own checksums, keeping only committed transactions; exclusive
 *   mode keeps its index in the process's memory (the build has no shared memory), which
 *   opsmate's lock allows: one process has the file open at a time.
 * - `synchronous = normal`: with a WAL, a crash of the process or the machine loses no committed
 *   transaction and corrupts nothing; a power cut may lose the last ones (an ingest to run again).
 * - A 32 MB page cache holds a team's runbooks (a 5 MB corpus is about 6 MB here).
 */
const PRAGMAS =
  'pragma locking_mode = exclusive; pragma journal_mode = wal; pragma synchronous = normal; pragma cache_size = -32768;';

const ASCII_TOKEN = /^[a-z0-9]+$/;

/**
 * A lexeme as one FTS5 token. english-words.ts makes lexemes of letters, digits and marks; FTS5's
 * unicode61 tokenizer may split some of those (marks, some scripts), and with `detail=none` a
 * query cannot ask for two tokens in a row. So a lexeme that is not plain ASCII is written as
 * `_` and its UTF-8 bytes in hex: one token (`_` is a token character of kb_fts), the same at
 * ingest and search, and never an ASCII lexeme's (the analyser cuts words at `_`).
 */
export function ftsToken(lexeme: string): string {
  return ASCII_TOKEN.test(lexeme) ? lexeme : `_${Buffer.from(lexeme, 'utf8').toString('hex')}`;
}

/**
 * The store's analysis of words: english-words.ts's lexemes, as FTS5 tokens (each distinct word is
 * analysed once per write, so a lexeme is turned into its token once, not once per chunk).
 */
export const tokenAnalyser: WordAnalyser = (words) =>
  Promise.resolve(words.map((word) => englishLexemes(word).map(ftsToken)));

/**
 * A long text as UTF-8 bytes, bound as a blob and cast back to text in the statement:
 * node-sqlite3-wasm encodes a string parameter in JavaScript, measuring and then copying it
 * character by character; a Buffer (encoded natively) is copied as it is. The chunks' content
 * and terms so: 6-8 % of a write of 35 400 chunks (docs/benchmarks.md).
 */
function utf8(text: string): Buffer {
  return Buffer.from(text, 'utf8');
}

/** `+` repeated n - 1 times: a count in a `terms` text (nothing for once). */
const countSuffixes: string[] = ['', ''];
function countSuffix(count: number): string {
  for (let next = countSuffixes.length; next <= count; next++)
    countSuffixes[next] = `${countSuffixes[next - 1]!}+`;
  return countSuffixes[count]!;
}

/**
 * A chunk's `terms` text: each lexeme (an FTS5 token) followed by a `+` for each occurrence after
 * the first (`nginx++ upstream 502`). kb_fts indexes this very text: its tokenizer reads `+` as a
 * separator, so it sees each lexeme once, and no second text of the tokens is built, bound and
 * parsed for it. Before, terms were written `lexeme:count` (and the tokens apart); both read.
 */
function termsText(cache: LexemeCache, terms: ChunkTerms): string {
  let text = '';
  for (let at = 0; at < terms.length; at++) {
    const entry = `${cache.lexeme(terms.numbers[at]!)}${countSuffix(terms.counts[at]!)}`;
    text = at === 0 ? entry : `${text} ${entry}`;
  }
  return text;
}

/** The lexemes of a stored `terms` text, with their counts (either way it was written). */
export function parseTerms(terms: string): Array<[string, number]> {
  if (terms === '') return [];
  return terms.split(' ').map((entry) => {
    const colon = entry.lastIndexOf(':');
    if (colon >= 0) return [entry.slice(0, colon), Number(entry.slice(colon + 1))];
    const plus = entry.indexOf('+');
    return plus < 0 ? [entry, 1] : [entry.slice(0, plus), entry.length - plus + 1];
  });
}

/** A vector as the bytes stored in kb_chunks.embedding: float32, little-endian (the host's). */
function vectorBytes(vector: readonly number[]): Uint8Array {
  const floats = Float32Array.from(vector, (value) => (Number.isFinite(value) ? value : 0));
  return new Uint8Array(floats.buffer);
}

type SqliteModule = typeof SqliteWasm;

let sqliteModule: Promise<SqliteModule> | undefined;

/** SQLite (compiled to WASM, no native build), loaded only by the commands that need the store. */
async function loadSqlite(): Promise<SqliteModule> {
  sqliteModule ??= import('node-sqlite3-wasm').then(
    (module: SqliteModule & { default?: SqliteModule }) => module.default ?? module,
  );
  try {
    return await sqliteModule;
  } catch (error) {
    sqliteModule = undefined;
    throw new OpsmateError(`cannot load SQLite for the knowledge base: ${String(error)}`, {
      hint: 'reinstall opsmate (its dependency node-sqlite3-wasm is missing or damaged)',
      cause: error,
    });
  }
}

/**
 * Opens (creating it if needed) the embedded knowledge base: one SQLite file in opsmate's home.
 * One opsmate process uses it at a time: it is held under a lock file (`<file>.opsmate-lock`,
 * with the holder's pid; a dead holder's lock is taken over) from open to close, as each command
 * opens, works and closes. Rejects with an OpsmateError when another live process keeps the store
 * longer than `waitMs`, or when the file cannot be opened (see {@link openSqliteLocked}).
 */
export async function openSqliteKnowledgeBase(options: {
  file: string;
  waitMs?: number;
  signal?: AbortSignal;
}): Promise<SqliteKnowledgeBase> {
  const release = await holdSqliteLock(options);
  return await openSqliteLocked({ file: options.file, release });
}

/** Takes the embedded store's lock (see {@link openSqliteKnowledgeBase}); resolves with its release. */
export async function holdSqliteLock(options: {
  file: string;
  waitMs?: number;
  signal?: AbortSignal;
}): Promise<() => void> {
  return await holdStoreLock({
    store: options.file,
    lockPath: `${options.file}.opsmate-lock`,
    ...(options.waitMs !== undefined ? { waitMs: options.waitMs } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
}

/** Inside SQLite's lock directory: the pid of the process that has the file open. */
const LOCK_HOLDER = 'opsmate-pid';
/** A lock directory without a holder younger than this may belong to a process opening the file. */
const LOCK_HOLDER_GRACE_MS = 2_000;

/**
 * Removes SQLite's lock directory when the process that made it is gone. The WASM build locks
 * the file with a directory (`<file>.lock`) for as long as it is open (exclusive mode), and a
 * killed process leaves it behind. opsmate's lock already keeps a second opsmate process out;
 * this is the check that does not rest on it: each opener writes its pid into the directory, and
 * a directory whose process is alive (or that is too young to have its pid yet) means the file
 * is open elsewhere, and the open fails closed rather than corrupt it.
 */
function clearLeftoverLock(file: string): void {
  const directory = `${file}.lock`;
  let ageMs: number;
  try {
    ageMs = Date.now() - statSync(directory).mtimeMs;
  } catch {
    return;
  }
  let holder: number | undefined;
  try {
    holder = Number.parseInt(readFileSync(join(directory, LOCK_HOLDER), 'utf8'), 10);
  } catch {
    holder = undefined;
  }
  const inUse =
    holder !== undefined && Number.isInteger(holder) ? processAlive(holder) : ageMs < LOCK_HOLDER_GRACE_MS;
  if (inUse) {
    throw new OpsmateError(
      `the knowledge base in ${file} is open in another process${holder ? ` (pid ${holder})` : ''} that does not hold opsmate's lock`,
      { hint: 'wait for that process to finish (or stop it), then try again' },
    );
  }
  rmSync(join(directory, LOCK_HOLDER), { force: true });
  try {
    rmdirSync(directory);
  } catch {
    // Not empty: SQLite then reports the file busy.
  }
}

/**
 * Opens `file` while its lock is held by the caller; `release` is called when the store closes,
 * or at once if it cannot be opened. A lock directory left by a killed process is removed
 * (see clearLeftoverLock). Fails closed when the file is open in a live process, when it is not
 * a SQLite database, when the write-ahead log cannot be set (crash safety rests on it), or when
 * a newer opsmate wrote the file.
 */
export async function openSqliteLocked(options: {
  file: string;
  release: () => void;
}): Promise<SqliteKnowledgeBase> {
  const { file, release } = options;
  let database: Database | undefined;
  try {
    const { Database } = await loadSqlite();
    clearLeftoverLock(file);
    database = new Database(file);
    database.exec(PRAGMAS);
    // Setting the journal mode read the file: the lock directory is there, held until close.
    try {
      writeFileSync(join(`${file}.lock`, LOCK_HOLDER), `${process.pid}\n`);
    } catch {
      // No directory: this build locks some other way; opsmate's lock still holds.
    }
    const journal = database.get('pragma journal_mode') as { journal_mode?: string } | null;
    if (journal?.journal_mode !== 'wal')
      throw new Error(
        `the write-ahead log could not be set (journal mode ${journal?.journal_mode ?? 'unknown'})`,
      );
    const fresh = database.get("select 1 as found from sqlite_master where name = 'kb_meta'") === null;
    if (!fresh) {
      const version = database.get("select value from kb_meta where key = 'schema_version'") as {
        value?: string;
      } | null;
      if (version?.value !== undefined && Number(version.value) > Number(SQLITE_SCHEMA_VERSION))
        throw new Error(
          `it was written by a newer opsmate (schema ${version.value}; this one knows ${SQLITE_SCHEMA_VERSION})`,
        );
    }
    database.exec(`begin immediate; ${TABLES}
      insert into kb_meta (key, value) values ('schema_version', '${SQLITE_SCHEMA_VERSION}') on conflict (key) do nothing;
      commit;`);
    return new SqliteKnowledgeBase(database, file, release);
  } catch (error) {
    try {
      if (database) rmSync(join(`${file}.lock`, LOCK_HOLDER), { force: true });
      database?.close();
    } catch {
      // The error that matters is the open's.
    } finally {
      release();
    }
    if (error instanceof OpsmateError) throw error;
    throw new OpsmateError(
      `cannot open the knowledge base in ${file}: ${error instanceof Error ? error.message : String(error)}`,
      {
        hint: 'upgrade opsmate if a newer one wrote it; else move the file away to start an empty knowledge base (then ingest again)',
        cause: error,
      },
    );
  }
}

/**
 * The knowledge base in SQLite: the embedded store. The same ranking as PostgreSQL's
 * FULL_TEXT_SQL, computed here: each query lexeme's inverse document frequency from kb_terms; the
 * postings of the rarest lexemes (up to POSTINGS_BUDGET of them, always the two rarest) read from
 * FTS5 and the chunks holding the most informative ones kept (COARSE_CANDIDATES); those scored
 * exactly with BM25 over their stored terms. Vectors are float32 blobs compared by cosine
 * distance in JavaScript, one pass over the model's chunks (no extension to load).
 */
export class SqliteKnowledgeBase implements KnowledgeBase {
  readonly kind = 'embedded' as const;
  readonly vectorAvailable = true;
  readonly location: string;
  readonly #database: Database;
  readonly #release: () => void;
  readonly #statements = new Map<string, Statement>();

  constructor(database: Database, location: string, release: () => void) {
    this.#database = database;
    this.location = location;
    this.#release = release;
  }

  /** Runs one statement (prepared once per open) and returns its rows: for tests and migrations. */
  query<Row = Record<string, SQLiteValue>>(sql: string, params: readonly SQLiteValue[] = []): Row[] {
    return this.#use(sql, (statement) => statement.all([...params]) as Row[]);
  }

  #run(
    sql: string,
    params: readonly SQLiteValue[] = [],
  ): { changes: number; lastInsertRowid: number | bigint } {
    return this.#use(sql, (statement) => statement.run([...params]));
  }

  /**
   * Runs `work` on the statement for `sql`, prepared once per open. A statement whose step failed
   * is not reset by the WASM build (its next bind fails with the old error), so after an error it
   * is finalized and dropped, and the next use prepares it again.
   */
  #use<T>(sql: string, work: (statement: Statement) => T): T {
    let statement = this.#statements.get(sql);
    if (statement === undefined) {
      statement = this.#database.prepare(sql);
      this.#statements.set(sql, statement);
    }
    try {
      return work(statement);
    } catch (error) {
      this.#statements.delete(sql);
      try {
        statement.finalize();
      } catch {
        // It reports the step's error again.
      }
      throw error;
    }
  }

  /** Runs `work` in one write transaction: committed when it resolves, rolled back when it rejects. */
  async transaction<T>(work: () => Promise<T> | T): Promise<T> {
    this.#database.exec('begin immediate');
    try {
      const result = await work();
      this.#database.exec('commit');
      return result;
    } catch (error) {
      if (this.#database.inTransaction) this.#database.exec('rollback');
      throw error;
    }
  }

  /** Closes the store, whatever state a failed write left it in, and then lets its lock go. */
  close(): Promise<void> {
    try {
      for (const statement of this.#statements.values()) {
        try {
          statement.finalize();
        } catch {
          // A failed statement reports its error again; it is finalized all the same.
        }
      }
      this.#statements.clear();
      if (this.#database.inTransaction) {
        try {
          this.#database.exec('rollback');
        } catch {
          // Closing rolls back what is left.
        }
      }
      rmSync(join(`${this.location}.lock`, LOCK_HOLDER), { force: true });
      this.#database.close();
    } finally {
      this.#release();
    }
    return Promise.resolve();
  }

  documentHashes(source: string): Promise<Map<string, string>> {
    const rows = this.query<{ path: string; hash: string }>(
      'select path, hash from kb_documents where source = ?',
      [source],
    );
    return Promise.resolve(new Map(rows.map((row) => [row.path, row.hash])));
  }

  source(name: string): Promise<KnowledgeSource | undefined> {
    const [row] = this.query<KnowledgeSource & { branch: string | null }>(
      'select name, origin, kind, root, glob, branch from kb_sources where name = ?',
      [name],
    );
    if (!row) return Promise.resolve(undefined);
    return Promise.resolve({ ...row, branch: row.branch ?? undefined } as KnowledgeSource);
  }

  /** A concurrent ingest waits for this one: only one process has the store open. */
  async writeSource(options: WriteSourceOptions): Promise<void> {
    const { source } = options;
    await this.transaction(async () => {
      const now = new Date().toISOString();
      this.#run(
        `insert into kb_sources (name, origin, kind, root, glob, branch, updated_at) values (?, ?, ?, ?, ?, ?, ?)
         on conflict (name) do update set origin = excluded.origin, kind = excluded.kind, root = excluded.root,
           glob = excluded.glob, branch = excluded.branch, updated_at = excluded.updated_at`,
        [source.name, source.origin, source.kind, source.root, source.glob, source.branch ?? null, now],
      );
      this.#forgetDocuments(source.name, options.deletes);
      const cache = new LexemeCache(tokenAnalyser);
      let changed = options.deletes.length > 0;
      for await (const documents of options.upserts) {
        // The write is synchronous SQLite: one turn of the event loop per batch lets a signal
        // handler run (Ctrl-C aborts the ingest, whose reader then stops the write).
        await new Promise<void>((resolve) => setImmediate(resolve));
        if (documents.length === 0) continue;
        changed = true;
        this.#forgetDocuments(
          source.name,
          documents.filter((document) => document.replaces !== false).map((document) => document.path),
        );
        for (const document of documents) {
          this.#run(
            'insert into kb_documents (source, path, hash, bytes, redactions, ingested_at) values (?, ?, ?, ?, ?, ?)',
            [source.name, document.path, document.hash, document.bytes, document.redactions, now],
          );
        }
        const chunks = chunkRowsOf(documents);
        if (chunks.length === 0) continue;
        const rows: SQLiteValue[][] = [];
        await cache.analyse(chunks, (index, terms) => {
          const chunk = chunks[index]!;
          const model = chunk.embeddingModel ?? options.embeddingModel;
          const embedding = model !== undefined && chunk.embedding ? vectorBytes(chunk.embedding) : null;
          rows.push([
            source.name,
            chunk.path,
            chunk.ordinal,
            chunk.title,
            chunk.headingPath,
            chunk.startLine,
            chunk.endLine,
            utf8(chunk.content),
            utf8(termsText(cache, terms)),
            terms.length,
            embedding === null ? null : (model ?? null),
            embedding,
          ]);
        });
        this.#insertChunks(rows);
      }
      const documentFrequency = cache.chunkFrequencies();
      if (documentFrequency.size > 0) {
        this.#run(
          `insert into kb_terms (source, lexeme, chunks) select ?1, t.value ->> 0, t.value ->> 1 from json_each(?2) t where true
           on conflict (source, lexeme) do update set chunks = chunks + excluded.chunks`,
          [source.name, JSON.stringify([...documentFrequency])],
        );
      }
      if (changed) this.#refreshSourceTotals(source.name);
    });
  }

  /**
   * Writes chunk rows (kb_chunks' columns, one statement each: measured faster in the WASM build
   * than one JSON parameter per batch read with `->>`, and than multi-row VALUES) and their
   * full-text entries, one JSON parameter for the batch. The rows get consecutive ids after the
   * largest ever given (AUTOINCREMENT), which is checked, and the entries are written under them.
   */
  #insertChunks(rows: readonly SQLiteValue[][]): void {
    const [before] = this.query<{ last: number }>(
      "select coalesce((select seq from sqlite_sequence where name = 'kb_chunks'), 0) as last",
    );
    let last = 0;
    for (const row of rows) {
      last = Number(
        this.#run(
          `insert into kb_chunks (source, path, ordinal, title, heading_path, start_line, end_line, content, terms, lexemes,
             embedding_model, embedding) values (?, ?, ?, ?, ?, ?, ?, cast(? as text), cast(? as text), ?, ?, ?)`,
          row,
        ).lastInsertRowid,
      );
    }
    const first = last - rows.length + 1;
    if (first !== (before?.last ?? 0) + 1)
      throw new Error(`kb_chunks ids are not consecutive (${rows.length} rows, last id ${last})`);
    this.#run(
      'insert into kb_fts (rowid, lexemes) select id, terms from kb_chunks where id between ?1 and ?2',
      [first, last],
    );
  }

  /**
   * Forgets stored documents of `source`: their chunks' lexemes leave the statistics and the
   * full-text index, then the chunks and the documents go.
   */
  #forgetDocuments(source: string, paths: readonly string[]): void {
    if (paths.length === 0) return;
    const departing = new Map<string, number>();
    for (const path of paths) {
      const chunks = this.query<{ id: number; terms: string }>(
        'select id, terms from kb_chunks where source = ? and path = ?',
        [source, path],
      );
      for (const chunk of chunks) {
        for (const [lexeme] of parseTerms(chunk.terms))
          departing.set(lexeme, (departing.get(lexeme) ?? 0) + 1);
        this.#run('delete from kb_fts where rowid = ?', [chunk.id]);
      }
      this.#run('delete from kb_chunks where source = ? and path = ?', [source, path]);
      this.#run('delete from kb_documents where source = ? and path = ?', [source, path]);
    }
    this.#run(
      `update kb_terms set chunks = chunks - d.value ->> 1 from json_each(?2) d
       where kb_terms.source = ?1 and kb_terms.lexeme = d.value ->> 0`,
      [source, JSON.stringify([...departing])],
    );
    this.#run('delete from kb_terms where source = ? and chunks <= 0', [source]);
  }

  /** A source's chunk count and lexeme total (BM25's N and average length), from what is stored. */
  #refreshSourceTotals(source: string): void {
    this.#run(
      `update kb_sources set
         chunk_count = (select count(*) from kb_chunks where source = ?1),
         lexeme_count = (select coalesce(sum(chunks), 0) from kb_terms where source = ?1)
       where name = ?1`,
      [source],
    );
  }

  chunksToEmbed(model: string, limit: number): Promise<Array<{ id: number; text: string }>> {
    const rows = this.query<{ id: number; title: string; heading_path: string; content: string }>(
      `select id, title, heading_path, content from kb_chunks
       where embedding_model is not ? or embedding is null order by id limit ?`,
      [model, limit],
    );
    return Promise.resolve(rows.map((row) => ({ id: row.id, text: embeddingText(row) })));
  }

  async setEmbeddings(
    model: string,
    vectors: ReadonlyArray<{ id: number; embedding: readonly number[] }>,
  ): Promise<void> {
    if (vectors.length === 0) return;
    await this.transaction(() => {
      for (const entry of vectors) {
        this.#run('update kb_chunks set embedding = ?, embedding_model = ? where id = ?', [
          vectorBytes(entry.embedding),
          model,
          entry.id,
        ]);
      }
    });
  }

  embeddedCount(model: string): Promise<number> {
    const [row] = this.query<{ count: number }>(
      'select count(*) as count from kb_chunks where embedding_model = ? and embedding is not null',
      [model],
    );
    return Promise.resolve(row?.count ?? 0);
  }

  async search(options: SearchOptions): Promise<KnowledgeHit[]> {
    const rankings: Ranking[] = [{ by: 'full-text', ids: this.#fullText(options) }];
    if (options.queryEmbedding && options.embeddingModel) {
      rankings.push({
        by: 'vector',
        ids: this.#nearest(options.queryEmbedding, options.embeddingModel, options.source),
      });
    }
    return await fuseRankings(rankings, options.limit, (ids) => Promise.resolve(this.#chunkRows(ids)));
  }

  /** BM25, as FULL_TEXT_SQL ranks on PostgreSQL (see the class). */
  #fullText(options: SearchOptions): number[] {
    const boosts = new Map<string, number>();
    for (const lexeme of englishTextLexemes(options.query)) boosts.set(ftsToken(lexeme), 1);
    if (options.expandSynonyms !== false) {
      for (const lexeme of englishTextLexemes(expandQuery(options.query))) {
        const token = ftsToken(lexeme);
        if (!boosts.has(token)) boosts.set(token, SYNONYM_WEIGHT);
      }
    }
    if (boosts.size === 0) return [];
    const source = options.source ?? null;
    const [totals] = this.query<{ n: number; lexemes: number }>(
      `select coalesce(sum(chunk_count), 0) as n, coalesce(sum(lexeme_count), 0) as lexemes
       from kb_sources where ?1 is null or name = ?1`,
      [source],
    );
    const n = Math.max(totals?.n ?? 0, 1);
    const averageLength = Math.max((totals?.lexemes ?? 0) / n, 1);
    const frequencies = this.query<{ lexeme: string; df: number }>(
      `select lexeme, sum(chunks) as df from kb_terms
       where lexeme in (select value from json_each(?1)) and (?2 is null or source = ?2) group by lexeme`,
      [JSON.stringify([...boosts.keys()]), source],
    );
    const weighted = frequencies
      .sort((a, b) => a.df - b.df || (a.lexeme < b.lexeme ? -1 : a.lexeme > b.lexeme ? 1 : 0))
      .map((term) => ({
        ...term,
        idf: boosts.get(term.lexeme)! * Math.log(1 + (n - term.df + 0.5) / (term.df + 0.5)),
      }));
    const coarse = new Map<number, number>();
    let rarerPostings = 0;
    weighted.forEach((term, index) => {
      if (index < 2 || rarerPostings < POSTINGS_BUDGET) {
        const postings = this.query<{ id: number }>(
          source === null
            ? 'select rowid as id from kb_fts where kb_fts match ?'
            : `select f.rowid as id from kb_fts f join kb_chunks c on c.id = f.rowid
               where kb_fts match ? and c.source = ?`,
          source === null ? [`"${term.lexeme}"`] : [`"${term.lexeme}"`, source],
        );
        for (const { id } of postings) coarse.set(id, (coarse.get(id) ?? 0) + term.idf);
      }
      rarerPostings += term.df;
    });
    const candidates = [...coarse]
      .sort((a, b) => b[1] - a[1] || a[0] - b[0])
      .slice(0, COARSE_CANDIDATES)
      .map(([id]) => id);
    if (candidates.length === 0) return [];
    const idf = new Map(weighted.map((term) => [term.lexeme, term.idf]));
    const rows = this.query<{ id: number; terms: string; lexemes: number }>(
      'select id, terms, lexemes from kb_chunks where id in (select value from json_each(?))',
      [JSON.stringify(candidates)],
    );
    const scored = rows.map((row) => {
      let score = 0;
      const norm = BM25_K1 * (1 - BM25_B + (BM25_B * row.lexemes) / averageLength);
      for (const [lexeme, count] of parseTerms(row.terms)) {
        const weight = idf.get(lexeme);
        if (weight !== undefined) score += (weight * (count * (BM25_K1 + 1))) / (count + norm);
      }
      return { id: row.id, score };
    });
    return scored
      .sort((a, b) => b.score - a.score || a.id - b.id)
      .slice(0, CANDIDATES)
      .map((hit) => hit.id);
  }

  /** The CANDIDATES chunks nearest `embedding` by cosine distance, of `model`'s vectors. */
  #nearest(embedding: readonly number[], model: string, source: string | undefined): number[] {
    const query = Float32Array.from(embedding, (value) => (Number.isFinite(value) ? value : 0));
    let queryNorm = 0;
    for (const value of query) queryNorm += value * value;
    queryNorm = Math.sqrt(queryNorm) || 1;
    const rows = this.query<{ id: number; embedding: Uint8Array }>(
      `select id, embedding from kb_chunks where embedding_model = ?1 and embedding is not null
       and (?2 is null or source = ?2)`,
      [model, source ?? null],
    );
    const distances: Array<{ id: number; distance: number }> = [];
    for (const row of rows) {
      const bytes = row.embedding;
      // Another dimension is another model's space, whatever the label says: not comparable.
      if (bytes.byteLength !== query.length * 4) continue;
      const vector = new Float32Array(bytes.buffer, bytes.byteOffset, query.length);
      let dot = 0;
      let norm = 0;
      for (let index = 0; index < query.length; index++) {
        dot += vector[index]! * query[index]!;
        norm += vector[index]! * vector[index]!;
      }
      distances.push({ id: row.id, distance: 1 - dot / ((Math.sqrt(norm) || 1) * queryNorm) });
    }
    return distances
      .sort((a, b) => a.distance - b.distance || a.id - b.id)
      .slice(0, CANDIDATES)
      .map((entry) => entry.id);
  }

  #chunkRows(ids: readonly number[]): ChunkRow[] {
    return this.query<ChunkRow>(
      `select c.id, c.source, c.path, s.root, c.title, c.heading_path, c.start_line, c.end_line, c.content
       from kb_chunks c join kb_sources s on s.name = c.source where c.id in (select value from json_each(?))`,
      [JSON.stringify(ids)],
    );
  }

  chunk(id: number): Promise<(KnowledgeHit & { ordinal: number; documentChunks: number }) | undefined> {
    const [row] = this.query<ChunkRow & { ordinal: number; document_chunks: number }>(
      `select c.id, c.source, c.path, s.root, c.title, c.heading_path, c.start_line, c.end_line, c.content, c.ordinal,
         (select count(*) from kb_chunks d where d.source = c.source and d.path = c.path) as document_chunks
       from kb_chunks c join kb_sources s on s.name = c.source where c.id = ?`,
      [id],
    );
    if (!row) return Promise.resolve(undefined);
    return Promise.resolve({
      ...hitFrom(row),
      score: 0,
      matchedBy: [],
      ordinal: row.ordinal,
      documentChunks: row.document_chunks,
    });
  }

  sources(): Promise<SourceSummary[]> {
    return Promise.resolve(this.query<SourceRow>(SOURCES_SQL).map(sourceSummary));
  }

  async forget(name: string): Promise<boolean> {
    return await this.transaction(() => {
      this.#run('delete from kb_fts where rowid in (select id from kb_chunks where source = ?)', [name]);
      this.#run('delete from kb_chunks where source = ?', [name]);
      this.#run('delete from kb_documents where source = ?', [name]);
      this.#run('delete from kb_terms where source = ?', [name]);
      return this.#run('delete from kb_sources where name = ?', [name]).changes > 0;
    });
  }

  stats(): Promise<KnowledgeStats> {
    return Promise.resolve(
      knowledgeStats({
        knowledge: this,
        totals: this.query<StatsTotals>(TOTALS_SQL)[0],
        models: this.query<{ model: string; count: number }>(MODELS_SQL),
      }),
    );
  }
}
