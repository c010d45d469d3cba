import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ShellSession } from './shell-session.js';

describe('a shell that ends while starting', () => {
  it('says why, even when the reason reaches stderr after the exit (a transport that exits first)', async () => {
    // What gcloud or ssh do on a loaded machine: the process exits, and its last stderr bytes
    // (here written by a child that still holds stderr) come later. The message must carry them,
    // so a runtime that decides from them whether to retry decides right.
    const session = new ShellSession({
      label: 'test runtime',
      transport: () => ({ argv: ['/bin/sh', '-c', '(sleep 0.4; echo "ERROR: late reason" >&2) & exit 3'] }),
      spillDir: mkdtempSync(join(tmpdir(), 'opsmate-start-drain-')),
    });
    await assert.rejects(session.start(), /the shell ended before it was ready: ERROR: late reason/);
    await session.close();
  });

  // A hang fails by the test's own timeout; the wait is bounded at 2 s inside.
  it('does not wait for ever on a stderr something else keeps open', { timeout: 20_000 }, async () => {
    const session = new ShellSession({
      label: 'test runtime',
      transport: () => ({ argv: ['/bin/sh', '-c', 'echo "gone" >&2; (sleep 30 &) ; exit 3'] }),
      spillDir: mkdtempSync(join(tmpdir(), 'opsmate-start-drain-')),
    });
    await assert.rejects(session.start(), /the shell ended before it was ready: gone/);
    await session.close();
  });
});
