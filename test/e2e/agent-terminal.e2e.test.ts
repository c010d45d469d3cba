import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
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

  let home = '';
  function open(args: string[], options: { keepHome?: boolean } = {}): PtySession {
    if (!options.keepHome || home === '') home = mkdtempSync(join(tmpdir(), 'opsmate-pty-'));
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

  it('run and exec show one header line: model, target, policy profile, review', async () => {
    fake.enqueue({ text: 'nothing to do' });
    const run = open(['run', 'hello']);
    await run.waitFor(/opsmate run · openai:\S+ · local \(host [^)]+\) · policy read-only · review off\n/);
    assert.equal(await run.exited(), 0, run.screen);
    assert.equal(run.screen.match(/opsmate run ·/g)?.length, 1, run.screen);
    const exec = open(['exec', '--', 'echo from-exec']);
    await exec.waitFor(
      /opsmate exec · local \(host [^)]+\) · policy ask-destructive · review off\nfrom-exec\n/,
    );
    assert.equal(await exec.exited(), 0, exec.screen);
  });

  it('always allow for the session: the next matching command runs without a prompt', async () => {
    fake.requests.length = 0;
    const scratch = mkdtempSync(join(tmpdir(), 'opsmate-pty-always-'));
    fake.enqueue(
      { toolCalls: [{ name: 'ShellCommand', args: { command: `touch ${scratch}/first` } }] },
      { toolCalls: [{ name: 'ShellCommand', args: { command: `touch ${scratch}/second` } }] },
      { text: 'both touched' },
    );
    const session = open(['solve', 'touch two files']);
    // touch is not read-only: the policy asks, and offers [a]lways.
    let at = await session.waitFor(/ \/ always \/ no \/ quit turn: $/);
    session.type('a\r');
    at = await session.waitFor(new RegExp(`Allow commands starting with: touch ${scratch}/first$`), at);
    session.type(`${'\x7f'.repeat(` ${scratch}/first`.length)}\r`); // keep just "touch"
    at = await session.waitFor(/policy file\? $/, at);
    session.type('s\r');
    await session.waitFor(/Answer:\s+both touched/, at);
    assert.equal(await session.exited(), 0, session.screen);
    assert.equal(session.screen.match(/Review/g)?.length, 1, `asked more than once:\n${session.screen}`);
    assert.ok(existsSync(join(scratch, 'first')) && existsSync(join(scratch, 'second')), session.screen);
    assert.match(toolResultsOf(fake.requests[2]!).at(-1)!, /Command: touch \S+\/second\nExit code: 0/);
    assert.equal(
      existsSync(join(home, '.opsmate', 'policy.yaml')),
      false,
      'a session rule was saved to a file',
    );
  });

  it('always allow saved to the policy file: a later opsmate process runs the command unasked', async () => {
    fake.requests.length = 0;
    const scratch = mkdtempSync(join(tmpdir(), 'opsmate-pty-saved-'));
    fake.enqueue(
      { toolCalls: [{ name: 'ShellCommand', args: { command: `mkdir -p ${scratch}/kept` } }] },
      { text: 'made it' },
    );
    const session = open(['solve', 'make a directory']);
    let at = await session.waitFor(/ \/ always \/ no \/ quit turn: $/);
    session.type('a\r');
    at = await session.waitFor(/Allow commands starting with: mkdir -p \S+$/, at);
    session.type(`${'\x7f'.repeat(` ${scratch}/kept`.length)}\r`); // "mkdir -p"
    at = await session.waitFor(/policy file\? $/, at);
    session.type('f\r');
    await session.waitFor(/Answer:\s+made it/, at);
    assert.equal(await session.exited(), 0, session.screen);
    const saved = readFileSync(join(home, '.opsmate', 'policy.yaml'), 'utf8');
    assert.match(saved, /prefix: mkdir -p/);
    assert.match(saved, /runtime: local/);
    // A new process, read-only profile, on the same home: the saved rule allows it, no prompt.
    const later = open(['exec', '--policy-profile', 'read-only', '--', `mkdir -p ${scratch}/later`], {
      keepHome: true,
    });
    assert.equal(await later.exited(), 0, later.screen);
    assert.doesNotMatch(later.screen, /Review/);
    assert.ok(existsSync(join(scratch, 'later')), later.screen);
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
    await session.waitFor(/Answer:\s+all done/, at);
    assert.equal(await session.exited(), 0, session.screen);
    const results = toolResultsOf(fake.requests[3]!);
    assert.match(results[0]!, /Command: echo approved\nExit code: 0/);
    assert.match(results[1]!, /You proposed: echo original\nCommand: echo edited/);
    assert.match(results[2]!, /NOT run: the user declined: not today/);
  });
});
