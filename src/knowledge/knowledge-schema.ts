import type { SqlStore } from './sql-store.js';

/** Bumped when the tables change; ensureKnowledgeSchema migrates a store of an older version. */
export const KNOWLEDGE_SCHEMA_VERSION = '2';

/**
 * The tables, the same on PGlite and PostgreSQL. A chunk's `tsv` holds the lexemes of its
 * document title, heading path and text with how often each occurs, written by ingest from the
 * database's analysis of each distinct word (chunk-lexemes.ts); the GIN index makes each term's
 * lookup cheap. `kb_terms` holds each lexeme's document frequency per source, kept up to date as
 * chunks come and go, so a search knows which of its words are rare before it reads any posting.
 * `embedding` exists only where pgvector does, and `embedding_model` says which model wrote it,
 * so a change of model is re-embedded. Version 1 computed `tsv` in a generated column (with
 * positions and field weights, which the ranking reads the same way).
 */
/** The full-text index; a bulk load on the embedded store drops and rebuilds it (KnowledgeBase). */
export const CHUNKS_TSV_INDEX = 'create index if not exists kb_chunks_tsv on kb_chunks using gin (tsv)';

const TABLES = `
create table if not exists kb_meta (key text primary key, value text not null);
create table if not exists kb_sources (
  name text primary key,
  origin text not null,
  kind text not null,
  root text not null,
  glob text not null,
  branch text,
  -- Its chunks and the sum of their lexeme counts: BM25's statistics without reading every tsvector.
  chunk_count integer not null default 0,
  lexeme_count bigint not null default 0,
  updated_at timestamptz not null default now()
);
create table if not exists kb_documents (
  source text not null references kb_sources (name) on delete cascade,
  path text not null,
  hash text not null,
  bytes integer not null,
  redactions integer not null default 0,
  ingested_at timestamptz not null default now(),
  primary key (source, path)
);
create table if not exists kb_chunks (
  id bigserial primary key,
  source text not null,
  path text not null,
  ordinal integer not null,
  title text not null,
  heading_path text not null,
  start_line integer not null,
  end_line integer not null,
  content text not null,
  -- Written by ingest (chunk-lexemes.ts): the lexemes of the title, heading path and content, with their counts.
  tsv tsvector not null,
  embedding_model text,
  foreign key (source, path) references kb_documents (source, path) on delete cascade
);
create table if not exists kb_terms (
  source text not null references kb_sources (name) on delete cascade,
  lexeme text not null,
  chunks integer not null,
  primary key (source, lexeme)
);
create index if not exists kb_terms_lexeme on kb_terms (lexeme);
${CHUNKS_TSV_INDEX};
create index if not exists kb_chunks_document on kb_chunks (source, path);
`;

/**
 * Creates the tables if missing, or migrates them (concurrent openers serialise on a lock). Every
 * opsmate process that uses the knowledge base opens it, so a store that is already current is
 * recognised without DDL: even `create index if not exists` takes a share lock on kb_chunks
 * before it looks, so on PostgreSQL every search would wait for a running ingest to commit, and
 * would cancel the autovacuum that cleans up after re-ingests.
 */
export async function ensureKnowledgeSchema(store: SqlStore): Promise<{ vector: boolean }> {
  const vector = await store.hasVector();
  if (await isCurrent(store, vector)) return { vector };
  await store.transaction(async (tx) => {
    // Two processes creating the same tables at once would collide on PostgreSQL's catalog.
    await tx.query('select pg_advisory_xact_lock(17017017)');
    for (const statement of TABLES.split(';')
      .map((text) => text.trim())
      .filter(Boolean)) {
      await tx.query(statement);
    }
    if (vector) await tx.query('alter table kb_chunks add column if not exists embedding vector');
    const [stored] = await tx.query<{ value: string }>(
      "select value from kb_meta where key = 'schema_version'",
    );
    // Version 1 computed tsv as a generated column; its values are what ingest now writes, so
    // they are kept and only the expression is dropped (PostgreSQL 13 and later, PGlite).
    if (stored?.value === '1') {
      await tx.query('alter table kb_chunks alter column tsv drop expression');
      await tx.query("update kb_meta set value = $1 where key = 'schema_version'", [
        KNOWLEDGE_SCHEMA_VERSION,
      ]);
    }
    await tx.query(
      `insert into kb_meta (key, value) values ('schema_version', $1) on conflict (key) do nothing`,
      [KNOWLEDGE_SCHEMA_VERSION],
    );
  });
  return { vector };
}

/** The tables exist at this schema version, with the embedding column if pgvector is there. */
async function isCurrent(store: SqlStore, vector: boolean): Promise<boolean> {
  const [tables] = await store.query<{ meta: boolean; chunks: boolean; embedding: boolean }>(
    `select to_regclass('kb_meta') is not null as meta, to_regclass('kb_chunks') is not null as chunks,
       exists (select 1 from pg_attribute where attrelid = to_regclass('kb_chunks') and attname = 'embedding'
         and not attisdropped) as embedding`,
  );
  if (!tables?.meta || !tables.chunks || (vector && !tables.embedding)) return false;
  const [stored] = await store.query<{ value: string }>(
    "select value from kb_meta where key = 'schema_version'",
  );
  return stored?.value === KNOWLEDGE_SCHEMA_VERSION;
}
