// An MCP tool call reviewed on a terminal (util-linux `script` gives the CLI a pseudo-terminal): a
// tool nobody declared read-only asks, the question shows the call, and yes and no do what they
// say, on the real filesystem server from npm and in what the model is told.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FakeLlmServer, toolResultsOf } from '../../test-support/fake-llm/index.js';
import { integrationSkip } from '../../test-support/integration.js';
import { PtySession, ptyMissingReason } from '../../test-support/pty-session.js';
import { CLI_PATH } from '../../test-support/run-cli.js';
import { readAuditCommands } from '../../src/safety/verify-audit-log.js';

const FILESYSTEM = createRequire(import.meta.url).resolve(
  '@modelcontextprotocol/server-filesystem/dist/index.js',
);

describe('MCP tool review on a terminal', { skip: integrationSkip('pty', ptyMissingReason()) }, () => {
  let fake: FakeLlmServer;
  let pty: PtySession | undefined;
  let work: string;
  before(async () => {
    fake = await FakeLlmServer.start();
    work = mkdtempSync(join(tmpdir(), 'wt-mcp-review-'));
  });
  after(async () => {
    pty?.kill();
    await fake.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('asks before a call that may change things, runs an approved one and not a declined one', async () => {
    const files = join(work, 'files');
    mkdirSync(files);
    const note = join(files, 'note.txt');
    const config = join(work, 'mcp.json');
    writeFileSync(
      config,
      JSON.stringify({ mcpServers: { fs: { command: process.execPath, args: [FILESYSTEM, files] } } }),
    );
    fake.requests.length = 0;
    fake.enqueue(
      { toolCalls: [{ name: 'fs__write_file', args: { path: note, content: 'written on approval\n' } }] },
      {
        toolCalls: [{ name: 'fs__move_file', args: { source: note, destination: join(files, 'moved.txt') } }],
      },
      { text: 'all done' },
    );
    const home = mkdtempSync(join(work, 'home-'));
    const auditLog = join(home, 'audit.jsonl');
    pty = new PtySession(
      [process.execPath, CLI_PATH, 'solve', 'write a note', '--mcp-config', config, '--audit-log', auditLog],
      {
        env: {
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          HOME: home,
          OPSMATE_HOME: join(home, '.opsmate'),
          NO_COLOR: '1',
          OPENAI_BASE_URL: fake.openAiBaseUrl,
        },
      },
    );
    const session = pty;
    let at = await session.waitFor(/Run it\? yes \/ edit \/ no \/ quit turn: $/);
    assert.match(session.screen, /fs__write_file may change things \(it does not declare itself read-only\)/);
    assert.match(
      session.screen,
      /Action: fs__write_file \{"path":"[^"]*note\.txt","content":"written on approval\\n"\}\n/,
    );
    assert.match(session.screen, /Review \(mcp server=fs\)/);
    assert.equal(existsSync(note), false, 'it ran before the answer');
    session.type('y\r');
    at = await session.waitFor(/fs__move_file[\s\S]*Run it\? yes \/ edit \/ no \/ quit turn: $/, at);
    session.type('n\r');
    at = await session.waitFor(/Why not\? .*: $/, at);
    session.type('keep the name\r');
    await session.waitFor(/Answer:\s+all done/, at);
    assert.equal(await session.exited(), 0, session.screen);
    assert.equal(readFileSync(note, 'utf8'), 'written on approval\n');
    assert.equal(existsSync(join(files, 'moved.txt')), false, 'the declined call ran');
    const results = toolResultsOf(fake.requests.at(-1)!);
    assert.match(results[0]!, /^fs__write_file returned:\n<untrusted-data[^>]*>\nSuccessfully wrote to /);
    assert.match(results[1]!, /^The fs__move_file call was NOT run: .*keep the name/);
    const records = readAuditCommands(auditLog).filter((record) => String(record.tool).startsWith('fs__'));
    assert.deepEqual(
      records.map((record) => [record.tool, record.outcome, record.decidedBy]),
      [
        ['fs__write_file', 'approved', 'reviewer'],
        ['fs__move_file', 'cancelled', 'reviewer'],
      ],
    );
  });
});
