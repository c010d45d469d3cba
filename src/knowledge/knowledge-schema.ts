import type { SqlStore } from './sql-store.js';

/** Bumped when the tables change in a way old data cannot follow (they are then rebuilt). */
export const KNOWLEDGE_SCHEMA_VERSION = '1';

/**
 * The tables, the same on PGlite and PostgreSQL. A chunk's `tsv` marks which words come from its
 * document title (A), heading path (B) and text (D); the search weighs the fields (FIELD_WEIGHTS in
 * knowledge-base.ts, equal since measured on both bench corpora); the GIN index makes each term's
 * lookup cheap. `kb_terms` holds each lexeme's document
 * frequency per source, kept up to date as chunks come and go, so a search knows which of its
 * words are rare before it reads any posting. `embedding` exists only where pgvector
 * does, and `embedding_model` says which model wrote it, so a change of model is re-embedded.
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
  tsv tsvector generated always as (
    setweight(to_tsvector('english', title), 'A') ||
    setweight(to_tsvector('english', heading_path), 'B') ||
    setweight(to_tsvector('english', content), 'D')
  ) stored,
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

/** Creates the tables if missing (once per open; concurrent openers serialise on a lock). */
export async function ensureKnowledgeSchema(store: SqlStore): Promise<{ vector: boolean }> {
  const vector = await store.hasVector();
  await store.transaction(async (tx) => {
    // Two processes creating the same tables at once would collide on PostgreSQL's catalog.
    await tx.query('select pg_advisory_xact_lock(17017017)');
    for (const statement of TABLES.split(';')
      .map((text) => text.trim())
      .filter(Boolean)) {
      await tx.query(statement);
    }
    if (vector) await tx.query('alter table kb_chunks add column if not exists embedding vector');
    await tx.query(
      `insert into kb_meta (key, value) values ('schema_version', $1) on conflict (key) do nothing`,
      [KNOWLEDGE_SCHEMA_VERSION],
    );
  });
  return { vector };
}
