import { openPgliteStore } from './pglite-store.js';
import type { DocumentInput, KnowledgeSource } from './knowledge-base.js';
import { HEADING_SEPARATOR } from './knowledge-base.js';
import type { SqliteKnowledgeBase } from './sqlite-knowledge-base.js';

/**
 * Copies a PGlite knowledge base (the embedded store of earlier versions) into a new SQLite one:
 * every source, document (with its content hash, so the next ingest skips what is unchanged) and
 * chunk, and each chunk's embedding with the model that made it. The chunks' lexemes are made
 * again by the SQLite store's analysis. The PGlite folder is only read; the caller removes the
 * SQLite file if this throws, so a failed move leaves everything as it was.
 */
export async function migratePgliteStore(options: {
  dataDir: string;
  into: SqliteKnowledgeBase;
  waitMs?: number;
  signal?: AbortSignal;
}): Promise<{ sources: number; chunks: number }> {
  const store = await openPgliteStore({
    dataDir: options.dataDir,
    ...(options.waitMs !== undefined ? { waitMs: options.waitMs } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  try {
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
      const documents = await store.query<{ path: string; hash: string; bytes: number; redactions: number }>(
        'select path, hash, bytes, redactions from kb_documents where source = $1 order by path',
        [source.name],
      );
      const rows = await store.query<{
        path: string;
        ordinal: number;
        title: string;
        heading_path: string;
        start_line: number;
        end_line: number;
        content: string;
        embedding_model: string | null;
        embedding: string | null;
      }>(
        `select path, ordinal, title, heading_path, start_line, end_line, content, embedding_model,
           ${vectors ? 'embedding::text' : 'null::text'} as embedding
         from kb_chunks where source = $1 order by path, ordinal`,
        [source.name],
      );
      const byPath = new Map<string, typeof rows>();
      for (const row of rows) {
        let list = byPath.get(row.path);
        if (list === undefined) byPath.set(row.path, (list = []));
        list.push(row);
      }
      const inputs: DocumentInput[] = documents.map((document) => ({
        ...document,
        replaces: false,
        chunks: (byPath.get(document.path) ?? []).map((row) => ({
          title: row.title,
          headingPath: row.heading_path === '' ? [] : row.heading_path.split(HEADING_SEPARATOR),
          startLine: row.start_line,
          endLine: row.end_line,
          content: row.content,
        })),
      }));
      await options.into.writeSource({
        source: { ...source, branch: source.branch ?? undefined } as KnowledgeSource,
        upserts: [inputs],
        deletes: [],
        expectedChunks: rows.length,
      });
      chunks += rows.length;
      const embedded = new Map<string, Array<{ id: number; embedding: number[] }>>();
      const ids = new Map(
        options.into
          .query<{ id: number; path: string; ordinal: number }>(
            'select id, path, ordinal from kb_chunks where source = ?',
            [source.name],
          )
          .map((row) => [`${row.ordinal}\u0000${row.path}`, row.id]),
      );
      for (const row of rows) {
        if (row.embedding === null || row.embedding_model === null) continue;
        const id = ids.get(`${row.ordinal}\u0000${row.path}`);
        if (id === undefined) continue;
        let list = embedded.get(row.embedding_model);
        if (list === undefined) embedded.set(row.embedding_model, (list = []));
        list.push({ id, embedding: JSON.parse(row.embedding) as number[] });
      }
      for (const [model, list] of embedded) await options.into.setEmbeddings(model, list);
    }
    return { sources: sources.length, chunks };
  } finally {
    await store.close();
  }
}
