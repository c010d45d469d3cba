import { renameSync, rmSync } from 'node:fs';
import { OpsmateError } from '../errors/opsmate-error.js';
import { openPgliteStore } from './pglite-store.js';
import type { DocumentInput, KnowledgeSource } from './knowledge-base.js';
import { HEADING_SEPARATOR } from './knowledge-base.js';
import type { SqlStore } from './sql-store.js';
import { openSqliteLocked, type SqliteKnowledgeBase } from './sqlite-knowledge-base.js';

/** Documents read from PGlite and written to SQLite at a time: memory holds one page of them. */
const PAGE_DOCUMENTS = 200;

/**
 * Moves a PGlite knowledge base (the embedded store of earlier versions, in `dataDir`) into a new
 * SQLite file `file`, with the caller holding `file`'s lock: every source, document (with its
 * content hash, so the next ingest skips what is unchanged) and chunk, and each chunk's embedding
 * with the model that made it; the chunks' lexemes are made again by the SQLite store's
 * analysis. It is written to `<file>.moving` and renamed into place only when complete, so a
 * move that fails or is killed leaves no `file`, and the next open moves again. The PGlite
 * folder is only read.
 */
export async function movePgliteStore(options: {
  dataDir: string;
  file: string;
  waitMs?: number;
  signal?: AbortSignal;
}): Promise<{ sources: number; chunks: number }> {
  const temporary = `${options.file}.moving`;
  const removeTemporary = () => {
    for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(`${temporary}${suffix}`, { force: true });
    rmSync(`${temporary}.lock`, { recursive: true, force: true });
  };
  removeTemporary();
  try {
    const store = await openPgliteStore({
      dataDir: options.dataDir,
      ...(options.waitMs !== undefined ? { waitMs: options.waitMs } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    let moved: { sources: number; chunks: number };
    try {
      const into = await openSqliteLocked({ file: temporary, release: () => undefined });
      try {
        moved = await copySources(store, into, options.signal);
        // One self-contained file to rename: the log checkpointed into it and dropped.
        into.query('pragma journal_mode = delete');
      } finally {
        await into.close();
      }
    } finally {
      await store.close();
    }
    renameSync(temporary, options.file);
    return moved;
  } catch (error) {
    removeTemporary();
    throw new OpsmateError(
      `cannot move the knowledge base from PGlite (${options.dataDir}) into SQLite (${options.file}): ${error instanceof Error ? error.message : String(error)}`,
      {
        hint: `the PGlite folder is left as it was and the move runs again at the next open; if it keeps failing, move ${options.dataDir} away and ingest the sources again`,
        cause: error,
      },
    );
  }
}

async function copySources(
  store: SqlStore,
  into: SqliteKnowledgeBase,
  signal: AbortSignal | undefined,
): Promise<{ sources: number; chunks: number }> {
  const tables = await store.query<{ name: string }>(
    "select table_name as name from information_schema.tables where table_name in ('kb_sources', 'kb_documents', 'kb_chunks')",
  );
  if (tables.length < 3) return { sources: 0, chunks: 0 };
  const vectors =
    (
      await store.query(
        "select 1 from information_schema.columns where table_name = 'kb_chunks' and column_name = 'embedding'",
      )
    ).length > 0;
  const sources = await store.query<KnowledgeSource & { branch: string | null }>(
    'select name, origin, kind, root, glob, branch from kb_sources order by name',
  );
  let chunks = 0;
  for (const source of sources) {
    const paths = (
      await store.query<{ path: string }>('select path from kb_documents where source = $1 order by path', [
        source.name,
      ])
    ).map((row) => row.path);
    async function* pages(): AsyncGenerator<DocumentInput[]> {
      for (let start = 0; start < paths.length; start += PAGE_DOCUMENTS) {
        signal?.throwIfAborted();
        const page = paths.slice(start, start + PAGE_DOCUMENTS);
        const documents = await store.query<{
          path: string;
          hash: string;
          bytes: number;
          redactions: number;
        }>(
          'select path, hash, bytes, redactions from kb_documents where source = $1 and path = any($2::text[]) order by path',
          [source.name, page],
        );
        const rows = await store.query<{
          path: string;
          title: string;
          heading_path: string;
          start_line: number;
          end_line: number;
          content: string;
          embedding_model: string | null;
          embedding: string | null;
        }>(
          `select path, title, heading_path, start_line, end_line, content, embedding_model,
             ${vectors ? 'embedding::text' : 'null::text'} as embedding
           from kb_chunks where source = $1 and path = any($2::text[]) order by path, ordinal`,
          [source.name, page],
        );
        const byPath = new Map<string, DocumentInput['chunks'][number][]>();
        for (const row of rows) {
          let list = byPath.get(row.path);
          if (list === undefined) byPath.set(row.path, (list = []));
          list.push({
            title: row.title,
            headingPath: row.heading_path === '' ? [] : row.heading_path.split(HEADING_SEPARATOR),
            startLine: row.start_line,
            endLine: row.end_line,
            content: row.content,
            ...(row.embedding !== null && row.embedding_model !== null
              ? { embedding: JSON.parse(row.embedding) as number[], embeddingModel: row.embedding_model }
              : {}),
          });
        }
        chunks += rows.length;
        yield documents.map((document) => ({
          ...document,
          replaces: false,
          chunks: byPath.get(document.path) ?? [],
        }));
      }
    }
    await into.writeSource({
      source: { ...source, branch: source.branch ?? undefined } as KnowledgeSource,
      upserts: pages(),
      deletes: [],
      expectedChunks: 0,
    });
  }
  return { sources: sources.length, chunks };
}
