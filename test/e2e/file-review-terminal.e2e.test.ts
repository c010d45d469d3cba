// A FileEditor change reviewed on a terminal (util-linux `script` gives the CLI a pseudo-terminal):
// the read-only profile asks, the question shows the unified diff, and approve, edit and decline
// each do what they say, on the target and in what the model is told.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FakeLlmServer, toolResultsOf } from '../../test-support/fake-llm/index.js';
import { integrationSkip } from '../../test-support/integration.js';
import { PtySession, ptyMissingReason } from '../../test-support/pty-session.js';
import { CLI_PATH } from '../../test-support/run-cli.js';
import { readAuditCommands } from '../../src/safety/verify-audit-log.js';

describe('FileEditor review on a terminal', { skip: integrationSkip('pty', ptyMissingReason()) }, () => {
  let fake: FakeLlmServer;
  let pty: PtySession | undefined;
  let work: string;
  before(async () => {
    fake = await FakeLlmServer.start();
    work = mkdtempSync(join(tmpdir(), 'opsmate-file-review-'));
  });
  after(async () => {
    pty?.kill();
    await fake.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('shows the diff, then applies an approved change, an edited one, and not a declined one', async () => {
    const path = join(work, 'nginx.conf');
    writeFileSync(path, 'worker_processes 1;\nlisten 80;\n');
    const replace = (oldText: string, newText: string) => ({
      toolCalls: [{ name: 'FileEditor', args: { command: 'replace', path, oldText, newText } }],
    });
    fake.requests.length = 0;
    fake.enqueue(
      replace('listen 80;', 'listen 8080;'),
      replace('worker_processes 1;', 'worker_processes 8;'),
      replace('listen 8080;', 'listen 9090;'),
      { text: 'all done' },
    );
    const home = mkdtempSync(join(work, 'home-'));
    const auditLog = join(home, 'audit.jsonl');
    pty = new PtySession([process.execPath, CLI_PATH, 'solve', 'tune nginx', '--audit-log', auditLog], {
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: home,
        OPSMATE_HOME: join(home, '.opsmate'),
        NO_COLOR: '1',
        OPENAI_BASE_URL: fake.openAiBaseUrl,
      },
    });
    const session = pty;
    // 1. The diff, then an explicit yes.
    let at = await session.waitFor(/-listen 80;\n\+listen 8080;\nRun it\? yes \/ edit \/ no \/ quit turn: $/);
    assert.match(session.screen, /FileEditor is judged as the shell command: tee -- /);
    assert.match(session.screen, /@@ -1,2 \+1,2 @@\n worker_processes 1;\n-listen 80;/);
    assert.doesNotMatch(session.screen, /always/, 'a tool call cannot be allowed by prefix');
    session.type('y\r');
    // 2. Edit the call: the line holds its JSON; clear it and write another.
    at = await session.waitFor(
      /\+worker_processes 8;\n[^\n]*\nRun it\? yes \/ edit \/ no \/ quit turn: $/,
      at,
    );
    session.type('e\r');
    at = await session.waitFor(/Call: FileEditor \{.*\}$/, at);
    const edited = JSON.stringify({
      command: 'replace',
      path,
      oldText: 'worker_processes 1;',
      newText: 'worker_processes 4;',
    });
    session.type(`\x15FileEditor ${edited}\r`); // Ctrl-U clears the line
    // 3. Decline, with a reason for the model.
    at = await session.waitFor(/\+listen 9090;\nRun it\? yes \/ edit \/ no \/ quit turn: $/, at);
    session.type('n\r');
    at = await session.waitFor(/Why not\? .*: $/, at);
    session.type('keep 8080\r');
    await session.waitFor(/Answer:\s+all done/, at);
    assert.equal(await session.exited(), 0, session.screen);
    assert.equal(readFileSync(path, 'utf8'), 'worker_processes 4;\nlisten 8080;\n');
    const results = toolResultsOf(fake.requests.at(-1)!);
    assert.match(results[0]!, /Replaced 1 occurrence \(at line 2\)/);
    assert.match(results[1]!, /^The user edited the call before it ran:[\s\S]*worker_processes 4;/);
    assert.match(results[2]!, /The FileEditor call was NOT run: the user declined: keep 8080/);
    const records = readAuditCommands(auditLog).filter((record) => record.tool === 'FileEditor');
    assert.deepEqual(
      records.map((record) => [record.outcome, record.decidedBy]),
      [
        ['approved', 'reviewer'],
        ['edited', 'reviewer'],
        ['cancelled', 'reviewer'],
      ],
    );
  });
});
