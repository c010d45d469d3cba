import { readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Spill files older than this are removed when a runtime is opened. */
export const SPILL_MAX_AGE_MS = 7 * 24 * 60 * 60 * 1000;

/**
 * Removes spill files older than `maxAgeMs` so the spill folder does not grow for ever. Best
 * effort: a file another process is still writing is young, and errors are ignored.
 */
export function pruneSpillFiles(dir: string, maxAgeMs = SPILL_MAX_AGE_MS, now = Date.now()): number {
  let removed = 0;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return 0;
  }
  for (const name of names) {
    const path = join(dir, name);
    try {
      const stats = statSync(path);
      if (stats.isFile() && now - stats.mtimeMs > maxAgeMs) {
        rmSync(path, { force: true });
        removed++;
      }
    } catch {
      // gone already
    }
  }
  return removed;
}
