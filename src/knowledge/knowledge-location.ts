import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { KnowledgeBase } from './knowledge-base.js';

/** Where the knowledge base lives: PGlite in opsmate's home, or the team's PostgreSQL server. */
export type KnowledgeLocation = { kind: 'embedded'; dataDir: string } | { kind: 'postgres'; url: string };

/** `<home>/knowledge`: the embedded store and the clones of git sources. */
export function knowledgeDir(home: string): string {
  return join(home, 'knowledge');
}

/** The store for these settings: `OPSMATE_DB_URL` when set, else `<home>/knowledge/store`. */
export function knowledgeLocation(options: { home: string; dbUrl?: string | undefined }): KnowledgeLocation {
  if (options.dbUrl !== undefined && options.dbUrl.trim() !== '')
    return { kind: 'postgres', url: options.dbUrl.trim() };
  return { kind: 'embedded', dataDir: join(knowledgeDir(options.home), 'store') };
}

/**
 * Whether there may be a knowledge base to search, known without opening it (agent sessions ask
 * this on every start, and opening PGlite costs ~0.4 s): the embedded store's folder exists, or a
 * server is configured.
 */
export function knowledgeBaseExists(location: KnowledgeLocation): boolean {
  return location.kind === 'postgres' || existsSync(location.dataDir);
}

/**
 * Opens the knowledge base, runs `work`, and closes it, whatever happens. The embedded store is
 * locked for that time only (see openEmbeddedStore): keep `work` short.
 */
export async function withKnowledgeBase<T>(
  location: KnowledgeLocation,
  work: (knowledge: KnowledgeBase) => Promise<T>,
  options: { signal?: AbortSignal; waitMs?: number } = {},
): Promise<T> {
  const store =
    location.kind === 'postgres'
      ? await (
          await import('./postgres-store.js')
        ).openPostgresStore({
          url: location.url,
          ...(options.signal ? { signal: options.signal } : {}),
        })
      : await (
          await import('./embedded-store.js')
        ).openEmbeddedStore({
          dataDir: location.dataDir,
          ...(options.signal ? { signal: options.signal } : {}),
          ...(options.waitMs !== undefined ? { waitMs: options.waitMs } : {}),
        });
  try {
    const knowledge = await KnowledgeBase.open(store);
    return await work(knowledge);
  } finally {
    await store.close();
  }
}
