import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import { OpsmateError } from '../errors/opsmate-error.js';
import { holdStoreLock } from './store-lock.js';
import type { SqlStore } from './sql-store.js';

/**
 * PostgreSQL settings for PGlite. Its default 128 MB of shared buffers sits in the process for as
 * long as the store is open: opsmate opens it for every search an agent makes. 32 MB holds the
 * working set of a team's runbooks (a 5 MB corpus is about 40 MB of tables and indexes) and
 * measured 95 MiB less resident memory at the same open, search and ingest times; 8 MB slowed
 * the first search (docs/benchmarks.md).
 */
const EMBEDDED_SETTINGS = 'shared_buffers = 32MB';

/**
 * Opens a PGlite knowledge base (PostgreSQL compiled to WASM, with pgvector) in `dataDir`: the
 * embedded store before SQLite, opened now to move it into SQLite (migrate-pglite.ts) and by the
 * benchmark's comparison. PGlite is single-process: two processes writing one data folder corrupt it. So the
 * store is held under a lock file (`<dataDir>.lock`, with the holder's pid; a dead holder's lock
 * is taken over) from open to close, and every opsmate process opens, works and closes: ingest
 * never holds it while it waits for the embedding model (full-text only, it holds it from
 * reading the stored hashes to the commit, chunking included: local work, no waits). Rejects with an OpsmateError when another live process
 * keeps it longer than `waitMs`.
 */
export async function openPgliteStore(options: {
  dataDir: string;
  waitMs?: number;
  signal?: AbortSignal;
}): Promise<SqlStore> {
  const release = await holdStoreLock({
    store: options.dataDir,
    lockPath: `${options.dataDir}.lock`,
    ...(options.waitMs !== undefined ? { waitMs: options.waitMs } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  let database: PGlite;
  try {
    database = await PGlite.create(options.dataDir, {
      extensions: { vector },
      postgresqlconf: EMBEDDED_SETTINGS,
    });
  } catch (error) {
    release();
    throw new OpsmateError(`cannot open the knowledge base in ${options.dataDir}: ${String(error)}`, {
      hint: 'move the folder away to start an empty knowledge base (then ingest again)',
      cause: error,
    });
  }
  let vectorReady: boolean | undefined;
  return {
    kind: 'pglite',
    location: options.dataDir,
    async query<Row>(sql: string, params: readonly unknown[] = []): Promise<Row[]> {
      return (await database.query<Row>(sql, [...params])).rows;
    },
    async exec(sql: string): Promise<void> {
      await database.exec(sql);
    },
    async transaction<T>(work: (store: Pick<SqlStore, 'query'>) => Promise<T>): Promise<T> {
      return await database.transaction(async (tx) =>
        work({
          query: async <Row>(sql: string, params: readonly unknown[] = []) =>
            (await tx.query<Row>(sql, [...params])).rows,
        }),
      );
    },
    async hasVector(): Promise<boolean> {
      if (vectorReady === undefined) {
        try {
          // Created once per store; later opens only look (every search opens the store).
          const installed = await database.query("select 1 from pg_extension where extname = 'vector'");
          if (installed.rows.length === 0) await database.exec('create extension if not exists vector');
          vectorReady = true;
        } catch {
          vectorReady = false;
        }
      }
      return vectorReady;
    },
    async close(): Promise<void> {
      try {
        await database.close();
      } finally {
        release();
      }
    },
  };
}
