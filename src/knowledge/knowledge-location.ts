import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { KnowledgeBase } from './knowledge-base.js';

/**
 * Where the knowledge base lives: SQLite in opsmate's home (`legacyDataDir`: where the PGlite
 * store of earlier versions is, moved into SQLite on first open), the team's PostgreSQL server,
 * or a PGlite folder (the benchmark's comparison).
 */
export type KnowledgeLocation =
  | { kind: 'embedded'; file: string; legacyDataDir?: string }
  | { kind: 'postgres'; url: string }
  | { kind: 'pglite'; dataDir: string };

/** `<home>/knowledge`: the embedded store and the clones of git sources. */
export function knowledgeDir(home: string): string {
  return join(home, 'knowledge');
}

/** The store for these settings: `OPSMATE_DB_URL` when set, else `<home>/knowledge/knowledge.sqlite`. */
export function knowledgeLocation(options: { home: string; dbUrl?: string | undefined }): KnowledgeLocation {
  if (options.dbUrl !== undefined && options.dbUrl.trim() !== '')
    return { kind: 'postgres', url: options.dbUrl.trim() };
  const dir = knowledgeDir(options.home);
  return { kind: 'embedded', file: join(dir, 'knowledge.sqlite'), legacyDataDir: join(dir, 'store') };
}

/**
 * Whether there may be a knowledge base to search, known without opening it (agent sessions ask
 * this on every start): the embedded store's file (or the PGlite folder it is made from) exists,
 * or a server is configured.
 */
export function knowledgeBaseExists(location: KnowledgeLocation): boolean {
  switch (location.kind) {
    case 'postgres':
      return true;
    case 'pglite':
      return existsSync(location.dataDir);
    case 'embedded':
      return (
        existsSync(location.file) ||
        (location.legacyDataDir !== undefined && existsSync(join(location.legacyDataDir, 'PG_VERSION')))
      );
  }
}

/** What a command may ask of the store's opening. */
export interface KnowledgeOpenOptions {
  signal?: AbortSignal;
  waitMs?: number;
  /** Told once when an old PGlite store is moved into SQLite (default: a line on stderr). */
  onNotice?: (message: string) => void;
}

/** Opens the knowledge base at `location`; the caller closes it. */
export async function openKnowledgeBase(
  location: KnowledgeLocation,
  options: KnowledgeOpenOptions = {},
): Promise<KnowledgeBase & { close(): Promise<void> }> {
  const waiting = {
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.waitMs !== undefined ? { waitMs: options.waitMs } : {}),
  };
  if (location.kind === 'embedded') {
    const { holdSqliteLock, openSqliteLocked } = await import('./sqlite-knowledge-base.js');
    const release = await holdSqliteLock({ file: location.file, ...waiting });
    try {
      const legacy = location.legacyDataDir;
      if (!existsSync(location.file) && legacy !== undefined && existsSync(join(legacy, 'PG_VERSION'))) {
        const { movePgliteStore } = await import('./migrate-pglite.js');
        const moved = await movePgliteStore({ dataDir: legacy, file: location.file, ...waiting });
        (options.onNotice ?? ((message) => process.stderr.write(`opsmate: note: ${message}\n`)))(
          `moved the knowledge base (${moved.sources} ${moved.sources === 1 ? 'source' : 'sources'}, ${moved.chunks} chunks) from ${legacy} into ${location.file}; the old folder is no longer read and can be deleted`,
        );
      }
    } catch (error) {
      release();
      throw error;
    }
    return await openSqliteLocked({ file: location.file, release });
  }
  const { PostgresKnowledgeBase } = await import('./knowledge-base.js');
  const store =
    location.kind === 'postgres'
      ? await (await import('./postgres-store.js')).openPostgresStore({ url: location.url, ...waiting })
      : await (await import('./pglite-store.js')).openPgliteStore({ dataDir: location.dataDir, ...waiting });
  try {
    return await PostgresKnowledgeBase.open(store);
  } catch (error) {
    await store.close();
    throw error;
  }
}

/**
 * Opens the knowledge base, runs `work`, and closes it, whatever happens. The embedded store is
 * locked for that time only (see openSqliteKnowledgeBase): keep `work` short.
 */
export async function withKnowledgeBase<T>(
  location: KnowledgeLocation,
  work: (knowledge: KnowledgeBase) => Promise<T>,
  options: KnowledgeOpenOptions = {},
): Promise<T> {
  const knowledge = await openKnowledgeBase(location, options);
  try {
    return await work(knowledge);
  } finally {
    await knowledge.close();
  }
}
