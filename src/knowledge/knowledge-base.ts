import type { DocumentChunk } from './chunk-document.js';
import { CHUNKS_TSV_INDEX, ensureKnowledgeSchema } from './knowledge-schema.js';
import { LexemeCache, postgresWordAnalyser } from './chunk-lexemes.js';
import { expandQuery } from './query-expansion.js';
import type { SqlQueries, SqlStore } from './sql-store.js';

/** A source: what one `opsmate ingest` names (`--name`), re-ingested as a whole. */
export interface KnowledgeSource {
  name: string;
  /** What was given: a folder, a glob or a git URL. */
  origin: string;
  kind: 'folder' | 'glob' | 'git';
  /** The folder its paths are relative to (for git, opsmate's clone). */
  root: string;
  glob: string;
  branch?: string;
}

/** One file to store, with its chunks (already masked). */
export interface DocumentInput {
  path: string;
  hash: string;
  bytes: number;
  redactions: number;
  chunks: ReadonlyArray<
    DocumentChunk & {
      embedding?: readonly number[];
      /** The model of `embedding` when it is not the write's (the embedded store only: the move from PGlite). */
      embeddingModel?: string;
    }
  >;
  /** False when no version of it is stored (nothing to replace); unknown means there may be. */
  replaces?: boolean;
}

/** A chunk found by a search. */
export interface KnowledgeHit {
  id: number;
  source: string;
  path: string;
  /** The file on this machine: the source's root joined with the path. */
  location: string;
  title: string;
  headingPath: string[];
  startLine: number;
  endLine: number;
  content: string;
  /** Fused score (higher is better); only comparable within one search. */
  score: number;
  /** Which rankings found it. */
  matchedBy: Array<'full-text' | 'vector'>;
}

export interface SourceSummary {
  name: string;
  origin: string;
  kind: string;
  root: string;
  documents: number;
  chunks: number;
  bytes: number;
  updatedAt: string;
}

export interface KnowledgeStats {
  store: KnowledgeBase['kind'];
  location: string;
  sources: number;
  documents: number;
  chunks: number;
  bytes: number;
  /** Embeddings can be stored and searched (on PostgreSQL: pgvector is there). */
  vectorAvailable: boolean;
  /** Chunks embedded by each model. */
  embeddedChunks: Record<string, number>;
}

/**
 * The knowledge base, whichever store holds it: what ingest writes and search reads. Two
 * implementations: {@link PostgresKnowledgeBase} (the team's PostgreSQL server, and PGlite, the
 * embedded store before SQLite) and SqliteKnowledgeBase (sqlite-knowledge-base.ts, the embedded
 * store). Both rank the same way (BM25 with the constants below, reciprocal rank fusion with
 * vectors); each analyses words its own way (PostgreSQL's `english` configuration, or
 * english-words.ts).
 */
export interface KnowledgeBase {
  /** `embedded` (SQLite in opsmate's home), `postgres` (a server), `pglite` (the old embedded store). */
  readonly kind: 'embedded' | 'postgres' | 'pglite';
  /** Where it is: the file or folder, or the server's URL without its password. */
  readonly location: string;
  readonly vectorAvailable: boolean;
  /** The stored content hash of every document of `source`, by path. */
  documentHashes(source: string): Promise<Map<string, string>>;
  source(name: string): Promise<KnowledgeSource | undefined>;
  /**
   * Writes one ingest of `source` in one transaction: the documents in `upserts` replace their
   * stored versions (chunks and all), those in `deletes` are forgotten; a concurrent ingest of
   * the same source waits for this one. `upserts` are batches of documents, which may be produced
   * while the write goes on (ingest reads, masks and chunks a batch of files at a time, so it
   * holds one batch of chunks, not the whole source's); `expectedChunks` is the caller's count or
   * estimate of the new chunks.
   */
  writeSource(options: WriteSourceOptions): Promise<void>;
  /** Chunks not embedded by `model` (none stored, or another model's), up to `limit`. */
  chunksToEmbed(model: string, limit: number): Promise<Array<{ id: number; text: string }>>;
  setEmbeddings(
    model: string,
    vectors: ReadonlyArray<{ id: number; embedding: readonly number[] }>,
  ): Promise<void>;
  /** Chunks embedded by `model`. */
  embeddedCount(model: string): Promise<number>;
  /**
   * The `limit` best chunks for `query`: BM25 full-text ranking always; with `queryEmbedding`
   * (from `embeddingModel`) also the nearest chunks by cosine distance, the two rankings fused by
   * reciprocal rank fusion.
   */
  search(options: SearchOptions): Promise<KnowledgeHit[]>;
  /** One chunk by id, with its neighbours' ids in the same document. */
  chunk(id: number): Promise<(KnowledgeHit & { ordinal: number; documentChunks: number }) | undefined>;
  sources(): Promise<SourceSummary[]>;
  /** Forgets a source and everything ingested from it; resolves false when there was none. */
  forget(name: string): Promise<boolean>;
  stats(): Promise<KnowledgeStats>;
}

export interface WriteSourceOptions {
  source: KnowledgeSource;
  /** Produced as the write asks for them; a sync or an async iterable. */
  upserts: Iterable<readonly DocumentInput[]> | AsyncIterable<readonly DocumentInput[]>;
  deletes: readonly string[];
  embeddingModel?: string;
  expectedChunks: number;
}

export interface SearchOptions {
  query: string;
  limit: number;
  source?: string;
  queryEmbedding?: readonly number[];
  embeddingModel?: string;
  /** Also weigh ops synonyms of the query's words (default true; off for the benchmark's comparison). */
  expandSynonyms?: boolean;
}

/** Rankings are fused with reciprocal rank fusion: 1 / (RRF_K + rank) summed over rankings. */
const RRF_K = 60;
/** Candidates each ranking contributes to the fusion. */
export const CANDIDATES = 50;
/**
 * BM25's term-frequency saturation and length normalisation. k1 is below the textbook 1.2: an
 * operator's question names several symptoms once each, so a chunk matching more of its words
 * should beat one repeating a single word. On both bench corpora recall@5 is as good or better
 * for k1 from 0.4 to 0.6, and worse at 0.7 and above (docs/benchmarks.md).
 */
export const BM25_K1 = 0.6;
export const BM25_B = 0.75;

/**
 * BM25 over the chunks' tsvectors, in one statement, in two stages so that it stays fast on a
 * large knowledge base. Each query lexeme's document frequency (hence its inverse document
 * frequency) comes from kb_terms. The postings of the rarest lexemes (up to POSTINGS_BUDGET of
 * them, always the two rarest) are read from the GIN index and the chunks holding the most
 * informative ones kept (COARSE_CANDIDATES): a chunk that matches only words found everywhere
 * cannot rank high. Those are scored exactly with every lexeme: a chunk's term frequency counts
 * its occurrences in the title, heading path and content alike (the tsvector's positions, none
 * for once: chunk-lexemes.ts), and its length is its lexeme count. The fields weigh the same:
 * every chunk carries its document's title, so a title boost (3x, and 2x for headings, before)
 * let one runbook whose title shares a word with the question fill the top results with its
 * chunks; equal weights were better on both bench corpora. PostgreSQL's own ts_rank has no inverse
 * document frequency: with an OR query a common word would outrank the rare word that names the
 * incident.
 */
export const COARSE_CANDIDATES = 150;
/** How much a word the question did not use but means (ops-synonyms.txt) counts, against 1. */
export const SYNONYM_WEIGHT = 0.4;
export const POSTINGS_BUDGET = 4_000;
const FULL_TEXT_SQL = `
with stats as (
  select greatest(sum(chunk_count), 1)::float8 as n,
    greatest(sum(lexeme_count)::float8 / greatest(sum(chunk_count), 1), 1) as avgdl
  from kb_sources where $3::text is null or name = $3::text
), asked as (
  select lexeme, max(boost) as boost from (
    select lexeme, 1.0::float8 as boost from unnest(to_tsvector('english', $1::text))
    union all
    select lexeme, ${SYNONYM_WEIGHT}::float8 from unnest(to_tsvector('english', $4::text))
  ) words group by lexeme
), terms as (
  select q.lexeme, q.boost, sum(t.chunks)::float8 as df
  from asked q
  join kb_terms t on t.lexeme = q.lexeme and ($3::text is null or t.source = $3::text)
  group by q.lexeme, q.boost
), weighted as (
  select t.lexeme, t.boost * ln(1 + (s.n - t.df + 0.5) / (t.df + 0.5)) as idf,
    sum(t.df) over (order by t.df, t.lexeme) - t.df as rarer_postings,
    row_number() over (order by t.df, t.lexeme) as rarity
  from terms t cross join stats s
), postings as (
  select w.lexeme, w.idf, c.id from weighted w
  cross join lateral (
    select id from kb_chunks where tsv @@ quote_literal(w.lexeme)::tsquery and ($3::text is null or source = $3::text)
  ) c
  where w.rarity <= 2 or w.rarer_postings < ${POSTINGS_BUDGET}
), coarse as (
  select id from postings group by id order by sum(idf) desc, id limit ${COARSE_CANDIDATES}
)
select c.id::int as id, sum(
  w.idf * (f.tf * ${BM25_K1 + 1}) /
  (f.tf + ${BM25_K1} * (${1 - BM25_B} + ${BM25_B} * length(c.tsv) / s.avgdl))
) as score
from coarse k
join kb_chunks c on c.id = k.id
cross join stats s
cross join lateral unnest(c.tsv) u
join weighted w on w.lexeme = u.lexeme
cross join lateral (select coalesce(cardinality(u.positions), 1)::float8 as tf) f
group by c.id
order by score desc, c.id
limit $2::int`;

const VECTOR_SQL = `
select id::int as id, embedding <=> $1::vector as distance from kb_chunks
where embedding_model = $2::text and embedding is not null and ($4::text is null or source = $4::text)
order by distance, id
limit $3::int`;

export interface ChunkRow {
  id: number;
  source: string;
  path: string;
  root: string;
  title: string;
  heading_path: string;
  start_line: number;
  end_line: number;
  content: string;
}

/** Heading paths are stored as one string, `A > B > C`, which full-text search reads too. */
export const HEADING_SEPARATOR = ' > ';

/** pgvector's text form of a vector. */
export function vectorLiteral(vector: readonly number[]): string {
  return `[${vector.map((value) => (Number.isFinite(value) ? value : 0)).join(',')}]`;
}

/**
 * The knowledge base on a {@link SqlStore} that speaks PostgreSQL: a server, or PGlite. The
 * ranking runs in the database (FULL_TEXT_SQL); words are analysed by PostgreSQL's `english`
 * configuration.
 */
export class PostgresKnowledgeBase implements KnowledgeBase {
  readonly store: SqlStore;
  readonly vectorAvailable: boolean;

  private constructor(store: SqlStore, vectorAvailable: boolean) {
    this.store = store;
    this.vectorAvailable = vectorAvailable;
  }

  get kind(): SqlStore['kind'] {
    return this.store.kind;
  }

  get location(): string {
    return this.store.location;
  }

  /** Creates the tables if needed. */
  static async open(store: SqlStore): Promise<PostgresKnowledgeBase> {
    const { vector } = await ensureKnowledgeSchema(store);
    return new PostgresKnowledgeBase(store, vector);
  }

  async close(): Promise<void> {
    await this.store.close();
  }

  /** The stored content hash of every document of `source`, by path. */
  async documentHashes(source: string): Promise<Map<string, string>> {
    const rows = await this.store.query<{ path: string; hash: string }>(
      'select path, hash from kb_documents where source = $1',
      [source],
    );
    return new Map(rows.map((row) => [row.path, row.hash]));
  }

  async source(name: string): Promise<KnowledgeSource | undefined> {
    const [row] = await this.store.query<{
      name: string;
      origin: string;
      kind: KnowledgeSource['kind'];
      root: string;
      glob: string;
      branch: string | null;
    }>('select name, origin, kind, root, glob, branch from kb_sources where name = $1', [name]);
    if (!row) return undefined;
    return { ...row, ...(row.branch ? { branch: row.branch } : { branch: undefined }) } as KnowledgeSource;
  }

  /**
   * A concurrent ingest of the same source waits for this one (advisory lock), so their writes
   * never interleave. `expectedChunks` decides {@link bulkLoad}.
   */
  async writeSource(options: WriteSourceOptions): Promise<void> {
    const { source } = options;
    await this.store.transaction(async (tx) => {
      await tx.query('select pg_advisory_xact_lock(hashtext($1))', [`opsmate-kb:${source.name}`]);
      await tx.query(
        `insert into kb_sources (name, origin, kind, root, glob, branch, updated_at) values ($1, $2, $3, $4, $5, $6, now())
         on conflict (name) do update set origin = excluded.origin, kind = excluded.kind, root = excluded.root,
           glob = excluded.glob, branch = excluded.branch, updated_at = now()`,
        [source.name, source.origin, source.kind, source.root, source.glob, source.branch ?? null],
      );
      await forgetDocuments(tx, source.name, options.deletes);
      const rebuildIndex = await this.bulkLoad(tx, options.expectedChunks);
      if (rebuildIndex) await tx.query('drop index kb_chunks_tsv');
      const embedded = this.vectorAvailable && options.embeddingModel !== undefined;
      const cache = new LexemeCache(postgresWordAnalyser(tx));
      let changed = options.deletes.length > 0;
      for await (const documents of options.upserts) {
        if (documents.length === 0) continue;
        changed = true;
        // Every path, whatever `replaces` says: the hashes were read before this transaction held
        // the source's lock, and an ingest of the same source that ran meanwhile may have stored
        // documents that were new then (two first ingests at once failed on kb_documents' key).
        await forgetDocuments(
          tx,
          source.name,
          documents.map((document) => document.path),
        );
        await tx.query(
          `insert into kb_documents (source, path, hash, bytes, redactions)
           select $1, p, h, b, r from unnest($2::text[], $3::text[], $4::int[], $5::int[]) as x(p, h, b, r)`,
          [
            source.name,
            documents.map((document) => document.path),
            documents.map((document) => document.hash),
            documents.map((document) => document.bytes),
            documents.map((document) => document.redactions),
          ],
        );
        const chunks = chunkRowsOf(documents);
        const tsvectors: string[] = [];
        await cache.analyse(chunks, (_index, terms) => tsvectors.push(cache.tsvector(terms)));
        for (let start = 0; start < chunks.length; start += INSERT_BATCH) {
          const batch = chunks.slice(start, start + INSERT_BATCH);
          const vectors = tsvectors.slice(start, start + INSERT_BATCH);
          const columns = [...chunkColumns(batch), vectors];
          await (embedded
            ? tx.query(
                `insert into kb_chunks (source, path, ordinal, title, heading_path, start_line, end_line, content, tsv, embedding_model, embedding)
                   select $1, p, o, t, h, s, e, c, v::tsvector, case when m is null then null else $10::text end, m::vector
                   from unnest($2::text[], $3::int[], $4::text[], $5::text[], $6::int[], $7::int[], $8::text[], $9::text[], $11::text[]) as x(p, o, t, h, s, e, c, v, m)`,
                [
                  source.name,
                  ...columns,
                  options.embeddingModel,
                  batch.map((chunk) => (chunk.embedding ? vectorLiteral(chunk.embedding) : null)),
                ],
              )
            : tx.query(
                `insert into kb_chunks (source, path, ordinal, title, heading_path, start_line, end_line, content, tsv)
                   select $1, p, o, t, h, s, e, c, v::tsvector
                   from unnest($2::text[], $3::int[], $4::text[], $5::text[], $6::int[], $7::int[], $8::text[], $9::text[]) as x(p, o, t, h, s, e, c, v)`,
                [source.name, ...columns],
              ));
        }
      }
      if (rebuildIndex) await tx.query(CHUNKS_TSV_INDEX);
      const documentFrequency = cache.chunkFrequencies();
      if (documentFrequency.size > 0) await addTermStatistics(tx, source.name, documentFrequency);
      if (changed) await refreshSourceTotals(tx, source.name);
    });
  }

  /**
   * Whether to drop the full-text index for this write and build it again after: on the embedded
   * store only (it is held by one process, so no search waits on the dropped index; on PostgreSQL
   * the drop would lock every other reader out until commit), and only when the new chunks
   * (counted, or estimated from the new files when they are read as the write goes) outnumber
   * those already stored, where one build is cheaper than updating the index row by row
   * (measured in docs/benchmarks.md). The transaction makes it all or nothing.
   */
  private async bulkLoad(tx: SqlQueries, newChunks: number): Promise<boolean> {
    if (this.store.kind !== 'pglite' || newChunks < BULK_LOAD_MIN_CHUNKS) return false;
    const [row] = await tx.query<{ count: number }>('select count(*)::int as count from kb_chunks');
    return (row?.count ?? 0) <= newChunks;
  }

  /** Chunks not embedded by `model` (none stored, or another model's), up to `limit`. */
  async chunksToEmbed(model: string, limit: number): Promise<Array<{ id: number; text: string }>> {
    if (!this.vectorAvailable) return [];
    const rows = await this.store.query<{ id: number; title: string; heading_path: string; content: string }>(
      `select id::int as id, title, heading_path, content from kb_chunks
       where embedding_model is distinct from $1 or embedding is null order by id limit $2`,
      [model, limit],
    );
    return rows.map((row) => ({ id: row.id, text: embeddingText(row) }));
  }

  async setEmbeddings(
    model: string,
    vectors: ReadonlyArray<{ id: number; embedding: readonly number[] }>,
  ): Promise<void> {
    if (vectors.length === 0) return;
    await this.store.query(
      `update kb_chunks set embedding = x.v::vector, embedding_model = $1
       from unnest($2::bigint[], $3::text[]) as x(id, v) where kb_chunks.id = x.id`,
      [model, vectors.map((entry) => entry.id), vectors.map((entry) => vectorLiteral(entry.embedding))],
    );
  }

  /** Chunks embedded by `model`. */
  async embeddedCount(model: string): Promise<number> {
    if (!this.vectorAvailable) return 0;
    const [row] = await this.store.query<{ count: number }>(
      'select count(*)::int as count from kb_chunks where embedding_model = $1 and embedding is not null',
      [model],
    );
    return row?.count ?? 0;
  }

  async search(options: SearchOptions): Promise<KnowledgeHit[]> {
    const source = options.source ?? null;
    const fullText = await this.store.query<{ id: number; score: number }>(FULL_TEXT_SQL, [
      options.query,
      CANDIDATES,
      source,
      options.expandSynonyms === false ? '' : expandQuery(options.query),
    ]);
    const rankings: Ranking[] = [{ by: 'full-text', ids: fullText.map((row) => row.id) }];
    if (options.queryEmbedding && options.embeddingModel && this.vectorAvailable) {
      const nearest = await this.store.query<{ id: number }>(VECTOR_SQL, [
        vectorLiteral(options.queryEmbedding),
        options.embeddingModel,
        CANDIDATES,
        source,
      ]);
      rankings.push({ by: 'vector', ids: nearest.map((row) => row.id) });
    }
    return await fuseRankings(rankings, options.limit, (ids) => this.chunkRows(ids));
  }

  /** One chunk by id, with its neighbours' ids in the same document. */
  async chunk(id: number): Promise<(KnowledgeHit & { ordinal: number; documentChunks: number }) | undefined> {
    const [row] = await this.store.query<ChunkRow & { ordinal: number; document_chunks: number }>(
      `select c.id::int as id, c.source, c.path, s.root, c.title, c.heading_path, c.start_line, c.end_line, c.content, c.ordinal,
         (select count(*)::int from kb_chunks d where d.source = c.source and d.path = c.path) as document_chunks
       from kb_chunks c join kb_sources s on s.name = c.source where c.id = $1`,
      [id],
    );
    if (!row) return undefined;
    return {
      ...hitFrom(row),
      score: 0,
      matchedBy: [],
      ordinal: row.ordinal,
      documentChunks: row.document_chunks,
    };
  }

  private async chunkRows(ids: readonly number[]): Promise<ChunkRow[]> {
    return await this.store.query<ChunkRow>(
      `select c.id::int as id, c.source, c.path, s.root, c.title, c.heading_path, c.start_line, c.end_line, c.content
       from kb_chunks c join kb_sources s on s.name = c.source where c.id = any($1::bigint[])`,
      [ids],
    );
  }

  async sources(): Promise<SourceSummary[]> {
    return (await this.store.query<SourceRow>(SOURCES_SQL)).map(sourceSummary);
  }

  /** Forgets a source and everything ingested from it; resolves false when there was none. */
  async forget(name: string): Promise<boolean> {
    const rows = await this.store.transaction(async (tx) => {
      await tx.query('select pg_advisory_xact_lock(hashtext($1))', [`opsmate-kb:${name}`]);
      await tx.query('delete from kb_chunks where source = $1', [name]);
      return await tx.query('delete from kb_sources where name = $1 returning name', [name]);
    });
    return rows.length > 0;
  }

  async stats(): Promise<KnowledgeStats> {
    return knowledgeStats({
      knowledge: this,
      totals: (await this.store.query<StatsTotals>(TOTALS_SQL))[0],
      models: await this.store.query<{ model: string; count: number }>(MODELS_SQL),
    });
  }
}

/** A chunk row as kb_chunks stores it, before its tsvector. */
export interface ChunkRowInput {
  path: string;
  ordinal: number;
  title: string;
  /** Joined with the heading separator. */
  headingPath: string;
  startLine: number;
  endLine: number;
  content: string;
}

/**
 * The columns of `rows` as arrays, in kb_chunks' order (path, ordinal, title, heading_path,
 * start_line, end_line, content), for one `INSERT ... SELECT FROM unnest(...)`.
 */
export function chunkColumns(
  rows: readonly ChunkRowInput[],
): [string[], number[], string[], string[], number[], number[], string[]] {
  return [
    rows.map((row) => row.path),
    rows.map((row) => row.ordinal),
    rows.map((row) => row.title),
    rows.map((row) => row.headingPath),
    rows.map((row) => row.startLine),
    rows.map((row) => row.endLine),
    rows.map((row) => row.content),
  ];
}

/** Chunks written per INSERT: the columns as arrays. Ingest reads files in batches of about this many. */
export const INSERT_BATCH = 500;
/** Below this many new chunks the index is kept and updated (see KnowledgeBase.bulkLoad). */
const BULK_LOAD_MIN_CHUNKS = 1_000;

/**
 * kb_terms holds, per source, each lexeme's document frequency (chunks holding it). It is kept
 * incrementally: the chunks an ingest removes are subtracted before they go (ts_stat over their
 * stored tsvectors), the chunks it adds are counted as their tsvectors are built, so a re-ingest
 * of one file reads that file's chunks, not the whole source's (the test checks it equals a
 * rebuild from every chunk).
 */
async function subtractTermStatistics(
  tx: SqlQueries,
  source: string,
  paths: readonly string[],
): Promise<void> {
  await tx.query(
    `update kb_terms t set chunks = t.chunks - o.ndoc
     from ts_stat(format('select tsv from kb_chunks where source = %L and path = any(%L::text[])', $1::text, $2::text[])) o
     where t.source = $1 and t.lexeme = o.word`,
    [source, paths],
  );
  await tx.query('delete from kb_terms where source = $1 and chunks <= 0', [source]);
}

/** Forgets stored documents of `source` (their chunks go by cascade), statistics first. */
async function forgetDocuments(tx: SqlQueries, source: string, paths: readonly string[]): Promise<void> {
  if (paths.length === 0) return;
  // The departing chunks' lexemes leave the statistics before the chunks leave the table.
  await subtractTermStatistics(tx, source, paths);
  await tx.query('delete from kb_documents where source = $1 and path = any($2::text[])', [source, paths]);
}

/** Adds the new chunks' lexemes (each with the number of new chunks holding it) to kb_terms. */
async function addTermStatistics(
  tx: SqlQueries,
  source: string,
  documentFrequency: ReadonlyMap<string, number>,
): Promise<void> {
  await tx.query(
    `insert into kb_terms (source, lexeme, chunks) select $1, l, n from unnest($2::text[], $3::int[]) as x(l, n)
     on conflict (source, lexeme) do update set chunks = kb_terms.chunks + excluded.chunks`,
    [source, [...documentFrequency.keys()], [...documentFrequency.values()]],
  );
}

/** A source's chunk count and lexeme total (BM25's N and average length), from what is stored. */
async function refreshSourceTotals(tx: SqlQueries, source: string): Promise<void> {
  await tx.query(
    `update kb_sources set
       chunk_count = (select count(*) from kb_chunks where source = $1),
       lexeme_count = (select coalesce(sum(chunks), 0) from kb_terms where source = $1)
     where name = $1`,
    [source],
  );
}

/** kb_terms rebuilt from every chunk of `source`: what the incremental upkeep must equal. */
export async function rebuiltTermStatistics(
  store: SqlQueries,
  source: string,
): Promise<Array<{ lexeme: string; chunks: number }>> {
  return await store.query<{ lexeme: string; chunks: number }>(
    `select word as lexeme, ndoc as chunks from ts_stat(format('select tsv from kb_chunks where source = %L', $1::text))
     order by word`,
    [source],
  );
}

/** `kb list`'s rows: the same SQL on both stores (`cast` is both dialects', `::int` is not). */
export const SOURCES_SQL = `select s.name, s.origin, s.kind, s.root, s.updated_at,
    (select cast(count(*) as integer) from kb_documents d where d.source = s.name) as documents,
    (select cast(coalesce(sum(bytes), 0) as integer) from kb_documents d where d.source = s.name) as bytes,
    (select cast(count(*) as integer) from kb_chunks c where c.source = s.name) as chunks
  from kb_sources s order by s.name`;

export type SourceRow = Omit<SourceSummary, 'updatedAt'> & { updated_at: Date | string };

export function sourceSummary(row: SourceRow): SourceSummary {
  return {
    name: row.name,
    origin: row.origin,
    kind: row.kind,
    root: row.root,
    documents: row.documents,
    chunks: row.chunks,
    bytes: row.bytes,
    updatedAt: new Date(row.updated_at).toISOString(),
  };
}

/** `kb stats`' totals and embedded chunks per model, on both stores. */
export const TOTALS_SQL = `select (select cast(count(*) as integer) from kb_sources) as sources,
    (select cast(count(*) as integer) from kb_documents) as documents,
    (select cast(count(*) as integer) from kb_chunks) as chunks,
    (select cast(coalesce(sum(bytes), 0) as integer) from kb_documents) as bytes`;
export const MODELS_SQL = `select embedding_model as model, cast(count(*) as integer) as count from kb_chunks
  where embedding_model is not null group by embedding_model order by embedding_model`;

export interface StatsTotals {
  sources: number;
  documents: number;
  chunks: number;
  bytes: number;
}

export function knowledgeStats(options: {
  knowledge: Pick<KnowledgeBase, 'kind' | 'location' | 'vectorAvailable'>;
  totals: StatsTotals | undefined;
  models: ReadonlyArray<{ model: string; count: number }>;
}): KnowledgeStats {
  const { knowledge, totals } = options;
  return {
    store: knowledge.kind,
    location: knowledge.location,
    sources: totals?.sources ?? 0,
    documents: totals?.documents ?? 0,
    chunks: totals?.chunks ?? 0,
    bytes: totals?.bytes ?? 0,
    vectorAvailable: knowledge.vectorAvailable,
    embeddedChunks: Object.fromEntries(options.models.map((row) => [row.model, row.count])),
  };
}

/** The chunks of `documents` as rows: their document's path, their ordinal, the heading path joined. */
export function chunkRowsOf(
  documents: readonly DocumentInput[],
): Array<Omit<DocumentInput['chunks'][number], 'headingPath'> & ChunkRowInput> {
  // Written out, not spread: a spread copy of every chunk was a tenth of a write's own time.
  const rows: Array<Omit<DocumentInput['chunks'][number], 'headingPath'> & ChunkRowInput> = [];
  for (const document of documents) {
    document.chunks.forEach((chunk, ordinal) => {
      const row: Omit<DocumentInput['chunks'][number], 'headingPath'> & ChunkRowInput = {
        path: document.path,
        ordinal,
        title: chunk.title,
        headingPath: chunk.headingPath.join(HEADING_SEPARATOR),
        startLine: chunk.startLine,
        endLine: chunk.endLine,
        content: chunk.content,
      };
      if (chunk.embedding !== undefined) row.embedding = chunk.embedding;
      if (chunk.embeddingModel !== undefined) row.embeddingModel = chunk.embeddingModel;
      rows.push(row);
    });
  }
  return rows;
}

/** A ranking of chunk ids, best first, and what made it. */
export interface Ranking {
  by: 'full-text' | 'vector';
  ids: number[];
}

/**
 * The `limit` best chunks of `rankings` fused by reciprocal rank fusion (ties by id), with their
 * rows from `rowsOf`.
 */
export async function fuseRankings(
  rankings: readonly Ranking[],
  limit: number,
  rowsOf: (ids: readonly number[]) => Promise<ChunkRow[]>,
): Promise<KnowledgeHit[]> {
  const fused = new Map<number, { score: number; matchedBy: Array<'full-text' | 'vector'> }>();
  for (const ranking of rankings) {
    ranking.ids.forEach((id, rank) => {
      const entry = fused.get(id) ?? { score: 0, matchedBy: [] };
      entry.score += 1 / (RRF_K + rank + 1);
      entry.matchedBy.push(ranking.by);
      fused.set(id, entry);
    });
  }
  const best = [...fused.entries()].sort((a, b) => b[1].score - a[1].score || a[0] - b[0]).slice(0, limit);
  if (best.length === 0) return [];
  const rows = await rowsOf(best.map(([id]) => id));
  const byId = new Map(rows.map((row) => [row.id, row]));
  return best.flatMap(([id, entry]) => {
    const row = byId.get(id);
    return row ? [{ ...hitFrom(row), score: entry.score, matchedBy: entry.matchedBy }] : [];
  });
}

/** What is embedded for a chunk: its place in the document, then its text. */
export function embeddingText(chunk: { title: string; heading_path: string; content: string }): string {
  return `${chunk.title}\n${chunk.heading_path}\n\n${chunk.content}`;
}

export function hitFrom(row: ChunkRow): Omit<KnowledgeHit, 'score' | 'matchedBy'> {
  return {
    id: row.id,
    source: row.source,
    path: row.path,
    location: row.root.endsWith('/') ? `${row.root}${row.path}` : `${row.root}/${row.path}`,
    title: row.title,
    headingPath: row.heading_path === '' ? [] : row.heading_path.split(HEADING_SEPARATOR),
    startLine: row.start_line,
    endLine: row.end_line,
    content: row.content,
  };
}
