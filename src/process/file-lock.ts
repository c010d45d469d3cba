import { readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/** Longest pause between two attempts while a live process holds the lock, unless set. */
export const DEFAULT_LOCK_POLL_MS = 50;
/**
 * A lock file whose pid cannot be read is younger than this only while its owner is between
 * creating it and writing its pid; older, it is left over from a crash.
 */
const UNKNOWN_OWNER_GRACE_MS = 2_000;

/** Options for {@link acquireFileLock}. */
export interface FileLockOptions {
  /** How long to wait while a live process holds the lock, in milliseconds. 0 gives up at once. */
  waitMs: number;
  /**
   * A lock older than this (by its file's mtime, in milliseconds) is taken over even when its pid
   * is alive, since the pid may belong to another process by now. Off when unset: a lock held by a
   * live process is then never taken over, however long it is held.
   */
  staleAfterMs?: number;
  /** Longest pause between attempts, in milliseconds. Default {@link DEFAULT_LOCK_POLL_MS}. */
  pollMs?: number;
  /** Stops the wait: the promise rejects with the signal's reason. */
  signal?: AbortSignal;
}

/** What {@link acquireFileLock} got: the lock, or who held it when the wait ran out. */
export type FileLockResult = HeldFileLock | BusyFileLock;

export interface HeldFileLock {
  acquired: true;
  /** Removes the lock file, if it is still ours. Safe to call twice. */
  release: () => void;
}

export interface BusyFileLock {
  acquired: false;
  /** Pid written in the lock file, when it could be read. */
  holderPid: number | undefined;
}

/**
 * Takes an exclusive lock through a file created with O_EXCL that holds the owner's pid. A lock
 * whose owner has died (or that is older than `staleAfterMs`) is removed and taken over, so a
 * crashed process does not block the next one. Resolves `{ acquired: false }` when a live owner
 * still holds it after `waitMs`; rejects when the file cannot be created for another reason
 * (missing folder, permissions) or when `signal` aborts. Call `release` in a `finally`.
 */
export async function acquireFileLock(path: string, options: FileLockOptions): Promise<FileLockResult> {
  const deadline = Date.now() + options.waitMs;
  const token = `${process.pid}\n`;
  for (let attempt = 0; ; attempt++) {
    options.signal?.throwIfAborted();
    try {
      writeFileSync(path, token, { flag: 'wx', mode: 0o644 });
      return { acquired: true, release: () => releaseLock(path, token) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = readHolder(path);
    if (holder === 'gone') continue;
    if (isStale(holder, options.staleAfterMs)) {
      // Only the file judged stale: another waiter may have taken it over and made its own since.
      if (sameFile(path, holder.ino)) removeQuietly(path);
      continue;
    }
    if (Date.now() >= deadline) return { acquired: false, holderPid: holder.pid };
    const pause = Math.min(5 + attempt * 5, options.pollMs ?? DEFAULT_LOCK_POLL_MS, deadline - Date.now());
    await sleep(Math.max(pause, 1), undefined, options.signal ? { signal: options.signal } : undefined).catch(
      (error: unknown) => {
        throw options.signal?.aborted ? options.signal.reason : error;
      },
    );
  }
}

/** True when a process with this pid exists, even one this user may not signal. */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

interface LockHolder {
  pid: number | undefined;
  ageMs: number;
  /** The lock file's inode when it was read (0 when it could not be read). */
  ino: number;
}

/** The lock file's owner and age, or 'gone' when the file vanished in the meantime. */
function readHolder(path: string): LockHolder | 'gone' {
  try {
    const stats = statSync(path);
    const pid = Number.parseInt(readFileSync(path, 'utf8'), 10);
    return {
      pid: Number.isInteger(pid) && pid > 0 ? pid : undefined,
      ageMs: Date.now() - stats.mtimeMs,
      ino: stats.ino,
    };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'gone';
    return { pid: undefined, ageMs: 0, ino: 0 };
  }
}

function isStale(holder: LockHolder, staleAfterMs: number | undefined): boolean {
  if (staleAfterMs !== undefined && holder.ageMs >= staleAfterMs) return true;
  if (holder.pid === undefined) return holder.ageMs >= UNKNOWN_OWNER_GRACE_MS;
  return !processAlive(holder.pid);
}

/**
 * Whether `path` is still the file with inode `ino`. It narrows the takeover race to the moment
 * between this look and the unlink: a file another waiter created since is not removed.
 */
function sameFile(path: string, ino: number): boolean {
  try {
    return ino !== 0 && statSync(path).ino === ino;
  } catch {
    return false;
  }
}

function releaseLock(path: string, token: string): void {
  try {
    // Taken over as stale in the meantime: the file is someone else's now.
    if (readFileSync(path, 'utf8') !== token) return;
  } catch {
    return;
  }
  removeQuietly(path);
}

function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Already gone: nothing to remove.
  }
}
