import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { FakeLlmServer, userTextsOf } from '../../test-support/fake-llm/index.js';
import { integrationSkip } from '../../test-support/integration.js';
import { PtySession, ptyMissingReason } from '../../test-support/pty-session.js';
import { CLI_PATH } from '../../test-support/run-cli.js';

/**
 * Issue 12, section 3: chat input like a modern agent CLI, on a pseudo-terminal against the fake
 * model server. The test types what a terminal sends: a paste arrives wrapped in the bracketed
 * paste marks the chat asks the terminal for.
 */
describe('chat input (pty)', { skip: integrationSkip('pty', ptyMissingReason()) }, () => {
  let fake: FakeLlmServer;
  let pty: PtySession | undefined;
  let home = '';
  before(async () => {
    fake = await FakeLlmServer.start();
  });
  beforeEach(() => {
    fake.reset();
    home = mkdtempSync(join(tmpdir(), 'wt-cfg-chat-'));
  });
  after(async () => {
    pty?.kill();
    await fake.close();
  });

  function chat(): PtySession {
    pty = new PtySession([process.execPath, CLI_PATH, 'chat', '--policy-profile', 'allow-all'], {
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

  it('/help, /stats and an unknown /word are answered locally; the model is never asked', async () => {
    const session = chat();
    let at = await session.waitFor(/> $/);
    session.type('/help\r');
    at = await session.waitFor(/\/run COMMAND +run a command yourself/, at);
    at = await session.waitFor(/> $/, at);
    session.type('/frobnicate now\r');
    at = await session.waitFor(/Unknown command \/frobnicate\. Type \/help for the list\.\n/, at);
    at = await session.waitFor(/> $/, at);
    session.type('/stats\r');
    at = await session.waitFor(/0 turns · 0 commands · tokens 0 in · 0 out\n/, at);
    await session.waitFor(/> $/, at);
    session.type('/exit\r');
    assert.equal(await session.exited(), 0, session.screen);
    assert.equal(fake.requests.length, 0, 'nothing was sent to the model');
  });

  it('a pasted multi-line log is one message; Alt-Enter starts a new line', async () => {
    fake.enqueue({ text: 'got all three lines' }, { text: 'got both' });
    const session = chat();
    let at = await session.waitFor(/> $/);
    session.type('\x1b[200~nginx: error one\nnginx: error two\nnginx: error three\x1b[201~\r');
    at = await session.waitFor(/got all three lines\n/, at);
    at = await session.waitFor(/> $/, at);
    session.type('first line\x1b\rsecond line\r');
    at = await session.waitFor(/got both\n/, at);
    await session.waitFor(/> $/, at);
    session.type('\x04');
    assert.equal(await session.exited(), 0, session.screen);
    assert.deepEqual(userTextsOf(fake.requests[0]!), [
      'nginx: error one\nnginx: error two\nnginx: error three',
    ]);
    assert.deepEqual(userTextsOf(fake.requests[1]!).at(-1), 'first line\nsecond line');
  });

  it('history persists across chats (up arrow), in the home, mode 0600', async () => {
    fake.enqueue({ text: 'first answer' }, { text: 'again answer' });
    const first = chat();
    let at = await first.waitFor(/> $/);
    first.type('is the disk full?\r');
    at = await first.waitFor(/first answer\n/, at);
    await first.waitFor(/> $/, at);
    first.type('\x04');
    assert.equal(await first.exited(), 0, first.screen);
    const file = join(home, '.opsmate', 'chat-history');
    assert.equal(readFileSync(file, 'utf8'), 'is the disk full?\n');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const second = chat();
    at = await second.waitFor(/> $/);
    second.type('\x1b[A\r'); // up arrow, Enter
    at = await second.waitFor(/again answer\n/, at);
    await second.waitFor(/> $/, at);
    second.type('\x04');
    assert.equal(await second.exited(), 0, second.screen);
    assert.deepEqual(userTextsOf(fake.requests[1]!), ['is the disk full?']);
  });

  it('/run CMD runs it through the runtime and shares its output with the next message', async () => {
    fake.enqueue({ text: 'I see the marker' });
    const session = chat();
    let at = await session.waitFor(/> $/);
    session.type('/run echo shared-marker-42\r');
    at = await session.waitFor(/shared-marker-42\n\[exit 0\]\n/, at);
    at = await session.waitFor(/> $/, at);
    assert.equal(fake.requests.length, 0, '/run alone asks the model nothing');
    session.type('what did I run?\r');
    at = await session.waitFor(/I see the marker\n/, at);
    await session.waitFor(/> $/, at);
    session.type('\x04');
    assert.equal(await session.exited(), 0, session.screen);
    const sent = userTextsOf(fake.requests[0]!).at(-1) ?? '';
    assert.match(
      sent,
      /^I ran `echo shared-marker-42` myself \(exit 0\)\. Its output:\n```\nshared-marker-42\n\n?```\n\nwhat did I run\?$/,
    );
  });
});
