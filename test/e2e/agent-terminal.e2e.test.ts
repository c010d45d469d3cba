import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FakeLlmServer, toolResultsOf } from '../../test-support/fake-llm/index.js';
import { integrationSkip } from '../../test-support/integration.js';
import { PtySession, ptyMissingReason } from '../../test-support/pty-session.js';
import { CLI_PATH } from '../../test-support/run-cli.js';

describe('agent CLI on a terminal', { skip: integrationSkip('pty', ptyMissingReason()) }, () => {
  let fake: FakeLlmServer;
  let pty: PtySession | undefined;
  before(async () => {
    fake = await FakeLlmServer.start();
  });
  after(async () => {
    pty?.kill();
    await fake.close();
  });

  function open(args: string[]): PtySession {
    const home = mkdtempSync(join(tmpdir(), 'opsmate-pty-'));
    pty = new PtySession([process.execPath, CLI_PATH, ...args], {
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: home,
        OPSMATE_HOME: join(home, '.opsmate'),
        NO_COLOR: '1',
        OPENAI_BASE_URL: fake.openAiBaseUrl,
      },
    });
    return pty;
  }

  it('chat: Ctrl-C cancels the running command and the turn, not the chat; Ctrl-D leaves', async () => {
    fake.requests.length = 0;
    fake.enqueue(
      { text: 'Sleeping.', toolCalls: [{ name: 'ShellCommand', args: { command: 'sleep 600' } }] },
      { text: 'second answer' },
    );
    const session = open(['chat']);
    let at = await session.waitFor(/> $/);
    session.type('hang please\r');
    at = await session.waitFor(/\$ sleep 600\n/, at);
    session.type('\x03');
    at = await session.waitFor(/\(cancelled\)\n/, at);
    at = await session.waitFor(/> $/, at);
    session.type('still there?\r');
    at = await session.waitFor(/second answer\n/, at);
    await session.waitFor(/> $/, at);
    session.type('\x04');
    assert.equal(await session.exited(), 0, session.screen);
    assert.match(
      session.screen,
      /\[cancelled: the command and all its processes were stopped and killed; nothing after that point ran\]/,
    );
  });

  it('run: Ctrl-C cancels the command and ends opsmate with 130', async () => {
    fake.requests.length = 0;
    fake.enqueue({ toolCalls: [{ name: 'ShellCommand', args: { command: 'sleep 600' } }] });
    const session = open(['run', 'hang']);
    await session.waitFor(/\$ sleep 600\n/);
    session.type('\x03');
    assert.equal(await session.exited(), 130, session.screen);
    assert.match(session.screen, /interrupted/);
  });

  // A busy loop never gives the shell a chance to notice a signal: the stop must come from outside.
  // The bounds are far below "never", not performance targets (the benchmarks measure latency).
  it('exec: Ctrl-C stops a busy loop and nothing after it runs; exit 130', async () => {
    const marker = join(mkdtempSync(join(tmpdir(), 'opsmate-pty-loop-')), 'after-loop');
    const session = open(['exec', '--', `echo looping; while :; do :; done; touch ${marker}`]);
    await session.waitFor(/looping\n/);
    const pressed = performance.now();
    session.type('\x03');
    assert.equal(await session.exited(), 130, session.screen);
    assert.ok(
      performance.now() - pressed < 5_000,
      `stopped after ${Math.round(performance.now() - pressed)} ms`,
    );
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(existsSync(marker), false, 'the statement after the loop ran');
    assert.doesNotMatch(session.screen, /Killed|Terminated/);
  });

  it('solve: Ctrl-C stops a looping command and the turn; exit 130', async () => {
    fake.requests.length = 0;
    const marker = join(mkdtempSync(join(tmpdir(), 'opsmate-pty-loop-')), 'after-loop');
    fake.enqueue({
      toolCalls: [
        {
          name: 'ShellCommand',
          args: { command: `for i in 1 2 3 4 5 6; do sleep 1; echo tick; done; touch ${marker}` },
        },
      ],
    });
    const session = open(['solve', 'loop', '--policy-profile', 'allow-all']);
    await session.waitFor(/tick\n/);
    session.type('\x03');
    assert.equal(await session.exited(), 130, session.screen);
    await new Promise((resolve) => setTimeout(resolve, 6_500));
    assert.equal(existsSync(marker), false, 'the rest of the loop ran');
  });

  it('--review: approve, edit and decline, each reported to the model', async () => {
    fake.requests.length = 0;
    fake.enqueue(
      { toolCalls: [{ name: 'ShellCommand', args: { command: 'echo approved' } }] },
      { toolCalls: [{ name: 'ShellCommand', args: { command: 'echo original' } }] },
      { toolCalls: [{ name: 'ShellCommand', args: { command: 'echo declined' } }] },
      { text: 'all done' },
    );
    const session = open(['solve', '-r', 'review these']);
    let at = await session.waitFor(/\[Y\]es \/ edit \/ no \/ quit turn: $/);
    session.type('y\r');
    at = await session.waitFor(/\[Y\]es \/ edit \/ no \/ quit turn: $/, at);
    session.type('e\r');
    at = await session.waitFor(/Command: echo original$/, at);
    session.type(`${'\x7f'.repeat('original'.length)}edited\r`); // backspaces over "original"

    at = await session.waitFor(/\[Y\]es \/ edit \/ no \/ quit turn: $/, at);
    session.type('n\r');
    at = await session.waitFor(/Why not\? .*: $/, at);
    session.type('not today\r');
    await session.waitFor(/Answer: all done/, at);
    assert.equal(await session.exited(), 0, session.screen);
    const results = toolResultsOf(fake.requests[3]!);
    assert.match(results[0]!, /Command: echo approved\nExit code: 0/);
    assert.match(results[1]!, /You proposed: echo original\nCommand: echo edited/);
    assert.match(results[2]!, /NOT run: the user declined: not today/);
  });
});
