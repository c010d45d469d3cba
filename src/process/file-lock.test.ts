import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { acquireFileLock, processAlive } from './file-lock.js';

const dir = mkdtempSync(join(tmpdir(), 'opsmate-file-lock-'));
after(() => rmSync(dir, { recursive: true, force: true }));

let counter = 0;
function freshPath(): string {
  return join(dir, `lock-${++counter}`);
}

/** A pid that belonged to a process which has exited. */
function deadPid(): number {
  const pid = spawnSync(process.execPath, ['-e', '']).pid;
  assert.ok(pid !== undefined && !processAlive(pid));
  return pid;
}

function makeOld(path: string): void {
  const longAgo = new Date(Date.now() - 60_000);
  utimesSync(path, longAgo, longAgo);
}

describe('acquireFileLock', () => {
  it('creates the file with our pid and removes it on release', async () => {
    const path = freshPath();
    const lock = await acquireFileLock(path, { waitMs: 0 });
    assert.equal(lock.acquired, true);
    assert.equal(Number.parseInt(readFileSync(path, 'utf8'), 10), process.pid);
    if (lock.acquired) lock.release();
    assert.equal(existsSync(path), false);
  });

  it('gives up at once with waitMs 0 and names the live holder', async () => {
    const path = freshPath();
    const first = await acquireFileLock(path, { waitMs: 0 });
    const second = await acquireFileLock(path, { waitMs: 0 });
    assert.deepEqual(second, { acquired: false, holderPid: process.pid });
    if (first.acquired) first.release();
  });

  it('waits for the holder to release', async () => {
    const path = freshPath();
    const first = await acquireFileLock(path, { waitMs: 0 });
    assert.ok(first.acquired);
    setTimeout(() => first.release(), 100);
    const second = await acquireFileLock(path, { waitMs: 5_000 });
    assert.equal(second.acquired, true);
    if (second.acquired) second.release();
  });

  it('takes over a lock whose owner has died', async () => {
    const path = freshPath();
    writeFileSync(path, String(deadPid()));
    const lock = await acquireFileLock(path, { waitMs: 0 });
    assert.equal(lock.acquired, true);
    assert.equal(Number.parseInt(readFileSync(path, 'utf8'), 10), process.pid);
    if (lock.acquired) lock.release();
  });

  it('takes over a live owner only once the lock is older than staleAfterMs', async () => {
    const path = freshPath();
    writeFileSync(path, String(process.ppid));
    assert.equal((await acquireFileLock(path, { waitMs: 0, staleAfterMs: 30_000 })).acquired, false);
    makeOld(path);
    const lock = await acquireFileLock(path, { waitMs: 0, staleAfterMs: 30_000 });
    assert.equal(lock.acquired, true);
    if (lock.acquired) lock.release();
  });

  it('treats an unreadable pid as held while fresh, and as a crash leftover when old', async () => {
    const path = freshPath();
    writeFileSync(path, '');
    assert.deepEqual(await acquireFileLock(path, { waitMs: 0 }), { acquired: false, holderPid: undefined });
    makeOld(path);
    assert.equal((await acquireFileLock(path, { waitMs: 0 })).acquired, true);
  });

  it('does not remove a lock that another process took over', async () => {
    const path = freshPath();
    const lock = await acquireFileLock(path, { waitMs: 0 });
    assert.ok(lock.acquired);
    writeFileSync(path, String(process.ppid));
    lock.release();
    assert.equal(readFileSync(path, 'utf8'), String(process.ppid));
  });

  it('stops waiting when the signal aborts', async () => {
    const path = freshPath();
    const first = await acquireFileLock(path, { waitMs: 0 });
    assert.ok(first.acquired);
    await assert.rejects(
      acquireFileLock(path, { waitMs: 10_000, signal: AbortSignal.timeout(100) }),
      (error: Error) => error.name === 'TimeoutError',
    );
    first.release();
  });

  it('rejects when the file cannot be created', async () => {
    await assert.rejects(acquireFileLock(join(dir, 'missing', 'lock'), { waitMs: 0 }), { code: 'ENOENT' });
  });
});
