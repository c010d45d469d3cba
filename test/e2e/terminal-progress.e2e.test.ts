import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { FakeLlmServer } from '../../test-support/fake-llm/index.js';
import { integrationSkip } from '../../test-support/integration.js';
import { PtySession, ptyMissingReason } from '../../test-support/pty-session.js';
import { CLI_PATH, runCliIsolated } from '../../test-support/run-cli.js';

/**
 * Issue 12, section 1: never a blank screen. The real CLI on a pseudo-terminal against the fake
 * model server, which holds its answer back, fails, or hangs. Every wait is for text on screen.
 */
describe('never a blank screen (pty)', { skip: integrationSkip('pty', ptyMissingReason()) }, () => {
  let fake: FakeLlmServer;
  let pty: PtySession | undefined;
  before(async () => {
    fake = await FakeLlmServer.start();
  });
  beforeEach(() => fake.reset());
  after(async () => {
    pty?.kill();
    await fake.close();
  });

  function open(args: string[]): PtySession {
    const home = mkdtempSync(join(tmpdir(), 'wt-cfg-pty-'));
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

  it('a spinner with elapsed time shows before the first token, while the model holds its answer', async () => {
    let release = (): void => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    fake.enqueue({ gate, reply: { text: 'finally here' } });
    const session = open(['run', 'hello']);
    // The counter appears once the wait passes a second; the model answers only after that.
    const at = await session.waitFor(/thinking… 1\.\ds/);
    release();
    await session.waitFor(/finally here\n/, at);
    assert.equal(await session.exited(), 0, session.screen);
  });

  it('says each retry of a failing server as it happens, then answers', async () => {
    const failure = { error: { status: 500, message: 'boom', headers: { 'retry-after-ms': '50' } } };
    fake.enqueue(failure, failure, { text: 'third time lucky' });
    const session = open(['run', 'hello']);
    let at = await session.waitFor(
      /HTTP 500 from http:\/\/127\.0\.0\.1:\d+\/v1\/chat\/completions, retrying \(1\/2\) in 0\.1s\n/,
    );
    at = await session.waitFor(/retrying \(2\/2\) in 0\.1s\n/, at);
    await session.waitFor(/third time lucky\n/, at);
    assert.equal(await session.exited(), 0, session.screen);
    assert.equal(fake.requests.length, 3);
  });

  it('a hung server ends at --model-timeout with one line naming it', async () => {
    fake.enqueue({ hang: true });
    const session = open(['run', '--model-timeout', '1', 'hello']);
    await session.waitFor(
      /opsmate: error: no answer from http:\/\/127\.0\.0\.1:\d+\/v1\/chat\/completions in 1s: the model server hung\nopsmate: hint: .*--model-timeout/,
    );
    assert.equal(await session.exited(), 1, session.screen);
  });

  it('a running command shows its target and elapsed time, and ends with [exit N · time]', async () => {
    fake.enqueue(
      { toolCalls: [{ name: 'ShellCommand', args: { command: 'sleep 2; echo slept; exit 3' } }] },
      { text: 'it exited 3' },
    );
    const session = open(['solve', 'sleep a bit']);
    let at = await session.waitFor(/\$ sleep 2; echo slept; exit 3/);
    at = await session.waitFor(/running on local \(host [^)]+\)… 1\.\ds/, at);
    at = await session.waitFor(/slept\n/, at);
    at = await session.waitFor(/\[exit 3 · 2\.\ds\]\n/, at);
    await session.waitFor(/it exited 3/, at);
    assert.equal(await session.exited(), 0, session.screen);
  });
});

describe('readable answers (pty and pipe)', { skip: integrationSkip('pty', ptyMissingReason()) }, () => {
  let fake: FakeLlmServer;
  before(async () => {
    fake = await FakeLlmServer.start();
  });
  after(() => fake.close());
  const ANSWER =
    '## Cause\n\nThe disk is **full**:\n\n1. `/var` is at 100%\n   - `access.log` is 38 GB\n2. rotate it\n\n```\ndf -h /var\n```\n';

  function env(home: string): Record<string, string> {
    return {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: home,
      OPSMATE_HOME: join(home, '.opsmate'),
      NO_COLOR: '1',
      OPENAI_BASE_URL: fake.openAiBaseUrl,
    };
  }

  it('on a terminal: Markdown rendered, Answer: on its own line', async () => {
    fake.enqueue({ toolCalls: [{ name: 'ShellCommand', args: { command: 'true' } }] }, { text: ANSWER });
    const session = new PtySession([process.execPath, CLI_PATH, 'solve', 'why?'], {
      env: env(mkdtempSync(join(tmpdir(), 'wt-cfg-pty-'))),
    });
    await session.waitFor(
      /Answer:\nCause\n\nThe disk is full:\n\n {2}1\. \/var is at 100%\n {4}\* access\.log is 38 GB\n {2}2\. rotate it\n\n {2}df -h \/var\n/,
    );
    assert.equal(await session.exited(), 0, session.screen);
    assert.doesNotMatch(session.screen, /\*\*|`|##/, 'no Markdown marks on the terminal');
  });

  it('piped: the answer is the raw Markdown, unchanged', async () => {
    fake.enqueue({ text: ANSWER });
    const home = mkdtempSync(join(tmpdir(), 'wt-cfg-pipe-'));
    const run = await runCliIsolated({ args: ['run', 'why?'], env: { ...env(home), NO_COLOR: undefined } });
    assert.equal(run.exitCode, 0, run.stderr);
    assert.equal(run.stdout, ANSWER);
    assert.ok(!run.stdout.includes('\x1b'));
  });
});
