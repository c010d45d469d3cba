// One review for a fan-out, on a real terminal (util-linux `script`): `exec -r -t GROUP` asks
// once, showing the number of targets, and the answer stands for every target.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { integrationSkip } from '../../test-support/integration.js';
import { PtySession, ptyMissingReason } from '../../test-support/pty-session.js';
import { CLI_PATH } from '../../test-support/run-cli.js';

describe('fleet review on a terminal', { skip: integrationSkip('pty', ptyMissingReason()) }, () => {
  const ptys: PtySession[] = [];
  after(() => {
    for (const pty of ptys) pty.kill();
  });

  function open(args: string[], home: string): PtySession {
    const pty = new PtySession([process.execPath, CLI_PATH, ...args], {
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: home,
        OPSMATE_HOME: join(home, '.opsmate'),
        NO_COLOR: '1',
      },
    });
    ptys.push(pty);
    return pty;
  }

  it('exec -r -t GROUP: one question with the count; yes runs it on every target', async () => {
    const home = mkdtempSync(join(tmpdir(), 'wt-targets-pty-'));
    mkdirSync(join(home, '.opsmate'));
    writeFileSync(
      join(home, '.opsmate', 'config.yaml'),
      'targets:\n  t1: { runtime: local, cwd: /usr }\n  t2: { runtime: local, cwd: /etc }\n  t3: { runtime: local, cwd: /tmp }\n  three: { targets: [t1, t2, t3] }\n',
      { mode: 0o600 },
    );
    const log = join(home, 'ran-on');
    const session = open(['exec', '-r', '-t', 'three', '--', `pwd >> ${log}`], home);
    const at = await session.waitFor(/one answer for all 3 targets[\s\S]*\? [^\n]*: $/);
    assert.match(session.screen, /Review \(local targets=3: t1, t2, t3\)/);
    session.type('y\r');
    await session.waitFor(/3 targets: 3 ok/, at);
    assert.equal(await session.exited(), 0, session.screen);
    assert.deepEqual(readFileSync(log, 'utf8').trim().split('\n').sort(), ['/etc', '/tmp', '/usr']);
    assert.equal(session.screen.match(/one answer for all 3 targets/g)?.length, 1, 'asked once');
  });
});
