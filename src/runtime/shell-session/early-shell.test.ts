import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { withoutOwnSecrets } from '../../process/child-environment.js';
import { startEarlyShell } from './early-shell.js';
import { ShellSession } from './shell-session.js';

const scratch = mkdtempSync(join(tmpdir(), 'opsmate-early-shell-'));

function parentOf(pid: number): number {
  // /proc/PID/stat: "pid (comm) state ppid ..."; comm may hold spaces, so read after the ')'.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitGone(pid: number): Promise<boolean> {
  for (let tries = 0; tries < 100 && alive(pid); tries++) await new Promise((done) => setTimeout(done, 20));
  return !alive(pid);
}

function session(argv: string[], env: NodeJS.ProcessEnv = withoutOwnSecrets()): ShellSession {
  return new ShellSession({ label: 'test', transport: () => ({ argv, env }), spillDir: scratch });
}

describe('the early shell', () => {
  after(() => rmSync(scratch, { recursive: true, force: true }));

  it('is taken by the first session that starts the same shell, and behaves as one it started', async () => {
    const early = startEarlyShell({ argv: ['/bin/bash'], env: withoutOwnSecrets() });
    assert.ok(early);
    const shell = session(['/bin/bash']);
    try {
      const first = await shell.run('cd /tmp && export EARLY=yes; false');
      assert.equal(first.exitCode, 1);
      // The session shell's parent is the supervisor: the early process.
      assert.equal(parentOf(shell.shellPid!), early);
      const second = await shell.run('echo "$EARLY $(pwd)"; exit 3');
      assert.equal(second.stdout, 'yes /tmp\n');
      assert.equal(second.exitCode, 3);
      const next = session(['/bin/bash']);
      await next.start();
      assert.notEqual(parentOf(next.shellPid!), early, 'handed out once');
      await next.close();
    } finally {
      await shell.close();
    }
    assert.ok(await waitGone(early), 'closed with the session');
  });

  for (const [what, argv, env] of [
    ['another shell', ['/bin/sh'], withoutOwnSecrets()],
    ['another environment', ['/bin/bash'], { ...withoutOwnSecrets(), EARLY_SHELL_TEST: '1' }],
  ] as const) {
    it(`is not taken for ${what}: it is killed and the session starts its own`, async () => {
      const early = startEarlyShell({ argv: [...argv], env });
      assert.ok(early);
      const shell = session(['/bin/bash']);
      try {
        const result = await shell.run('echo "own ${EARLY_SHELL_TEST-}"');
        assert.equal(result.stdout, 'own \n');
        assert.notEqual(parentOf(shell.shellPid!), early);
        assert.ok(await waitGone(early), 'the early shell was killed');
      } finally {
        await shell.close();
      }
    });
  }

  it('is not taken once it has ended', async () => {
    const early = startEarlyShell({ argv: ['/bin/bash'], env: withoutOwnSecrets() });
    assert.ok(early);
    process.kill(-early, 'SIGKILL');
    assert.ok(await waitGone(early));
    const shell = session(['/bin/bash']);
    try {
      assert.equal((await shell.run('echo fine')).stdout, 'fine\n');
    } finally {
      await shell.close();
    }
  });

  it('that could not start leaves the session to fail as it would have, with the same message', async () => {
    startEarlyShell({ argv: ['/nonexistent/shell'], env: withoutOwnSecrets() });
    await new Promise((done) => setTimeout(done, 50));
    const shell = session(['/nonexistent/shell']);
    await assert.rejects(shell.start(), /test: cannot start \/nonexistent\/shell: ENOENT/);
    await shell.close();
  });

  it('that nobody takes does not keep the process running, and ends with it', async () => {
    const script = join(scratch, 'untaken.ts');
    writeFileSync(
      script,
      `import { startEarlyShell } from ${JSON.stringify(fileURLToPath(new URL('./early-shell.ts', import.meta.url)))};
console.log(startEarlyShell({ argv: ['/bin/bash'], env: { PATH: process.env.PATH } }));
`,
    );
    // No exit call: the process must end by itself, then the shell with it.
    const child = spawnSync(process.execPath, ['--import', 'tsx', script], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    assert.equal(child.status, 0, child.stderr);
    const pid = Number(child.stdout.trim());
    assert.ok(pid > 0);
    assert.ok(await waitGone(pid), 'killed when opsmate exited');
  });
});
