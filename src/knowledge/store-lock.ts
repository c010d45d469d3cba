import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { OpsmateError } from '../errors/opsmate-error.js';
import { acquireFileLock } from '../process/file-lock.js';

/** How long a command waits for another opsmate process to finish with an embedded store. */
export const DEFAULT_STORE_LOCK_WAIT_MS = 60_000;

/**
 * Takes the lock file `lockPath` of the embedded store at `store` (its folder is created if
 * needed): one opsmate process at a time, a dead holder's lock taken over. Resolves with the
 * release; rejects with an OpsmateError naming the holder when a live process keeps it longer
 * than `waitMs`.
 */
export async function holdStoreLock(options: {
  store: string;
  lockPath: string;
  waitMs?: number;
  signal?: AbortSignal;
}): Promise<() => void> {
  mkdirSync(dirname(options.store), { recursive: true });
  const lock = await acquireFileLock(options.lockPath, {
    waitMs: options.waitMs ?? DEFAULT_STORE_LOCK_WAIT_MS,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  if (!lock.acquired) {
    throw new OpsmateError(
      `the knowledge base in ${options.store} is in use by another opsmate process${lock.holderPid ? ` (pid ${lock.holderPid})` : ''}`,
      { hint: 'try again when it has finished (an ingest holds it while it writes)' },
    );
  }
  return lock.release;
}
