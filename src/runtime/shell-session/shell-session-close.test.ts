/**
 * Closing a session starts nothing new on the target and leaves nothing running that it started:
 * for runtimes whose side channel is a new connection (ssh, gcloud, kubectl exec), a kill sent
 * through it at close was an extra connection that outlived disconnect().
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { co, type CoResult } from '../../process/child-process.js';
import { ShellSession } from './shell-session.js';

const shells = ['/bin/bash', '/bin/dash', '/bin/busybox'].filter((path) => existsSync(path));

function sessionWithSpy(shell: string) {
  const calls: string[] = [];
  let running = 0;
  const session = new ShellSession({
    label: 'test runtime',
    transport: () => ({ argv: shell.endsWith('busybox') ? [shell, 'sh'] : [shell] }),
    spillDir: mkdtempSync(join(tmpdir(), 'opsmate-close-')),
    sideChannel: async (script: string, args: string[]): Promise<CoResult> => {
      calls.push(script);
      running += 1;
      try {
        // A slow connection: the answer comes 300 ms later.
        return await co(['/bin/sh', '-c', `sleep 0.3; ${script}`, 'sh', ...args], { timeoutMs: 10_000 });
      } finally {
        running -= 1;
      }
    },
  });
  return { session, calls, running: () => running };
}

for (const shell of shells) {
  describe(`closing a session (${shell})`, () => {
    it('opens no side-channel connection when nothing needs stopping', async () => {
      const { session, calls } = sessionWithSpy(shell);
      assert.equal((await session.run('echo hi')).stdout, 'hi\n');
      assert.equal((await session.run('echo again')).stdout, 'again\n');
      await session.close();
      await new Promise((resolve) => setTimeout(resolve, 500));
      assert.deepEqual(calls, [], 'close() went through the side channel');
    });

    it('returns only when every side-channel call it caused has finished', async () => {
      const { session, calls, running } = sessionWithSpy(shell);
      const result = await session.run('sleep 30', { timeoutMs: 300 });
      assert.equal(result.timedOut, true);
      assert.ok(calls.length > 0, 'the timeout stopped the command through the side channel');
      await session.close();
      assert.equal(running(), 0, 'a side-channel call was still running after close()');
    });
  });
}
