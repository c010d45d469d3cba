import assert from 'node:assert/strict';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { FakeLlmServer, toolNamesOf, toolResultsOf } from '../../test-support/fake-llm/index.js';
import { runCliIsolated, startCliIsolated } from '../../test-support/run-cli.js';
import { readAuditCommands } from '../../src/safety/verify-audit-log.js';

const require = createRequire(import.meta.url);
/** The reference MCP servers, installed from npm as dev dependencies: real servers, not fakes. */
const EVERYTHING = require.resolve('@modelcontextprotocol/server-everything/dist/index.js');
const FILESYSTEM = require.resolve('@modelcontextprotocol/server-filesystem/dist/index.js');
const MISBEHAVING = fileURLToPath(
  new URL('../../test-support/mcp-fixtures/misbehaving-mcp-server.mjs', import.meta.url),
);
const SECRET = 'Sup3rS3cretValue99';
/** A token in a server's arguments: it must not show in the line that names the failed server. */
const ARG_TOKEN = 'ghp_0123456789abcdefghijklmnopqrstuvwxyzAB';

describe('the agent with MCP servers (opsmate run, the fake model)', () => {
  let fake: FakeLlmServer;
  let dir: string;
  let config: string;
  let files: string;
  before(async () => {
    fake = await FakeLlmServer.start();
    dir = mkdtempSync(join(tmpdir(), 'wt-mcp-e2e-'));
    files = join(dir, 'files');
    mkdirSync(files);
    writeFileSync(join(files, 'app.conf'), 'listen 8080\n');
    config = join(dir, 'mcp.json');
    writeFileSync(
      config,
      JSON.stringify({
        mcpServers: {
          everything: { command: process.execPath, args: [EVERYTHING], readOnly: ['echo'] },
          fs: { command: process.execPath, args: [FILESYSTEM, files] },
          broken: { command: process.execPath, args: [MISBEHAVING, 'exit-at-start', '--token', ARG_TOKEN] },
        },
      }),
    );
  });
  after(async () => {
    await fake?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const run = async (home: string, args: string[]) =>
    runCliIsolated({
      args: ['run', '--mcp-config', config, ...args],
      env: {
        OPENAI_BASE_URL: fake.openAiBaseUrl,
        OPENAI_API_KEY: 'sk-fake-key-for-tests',
        OPSMATE_HOME: home,
      },
    });
  const audit = (home: string) =>
    readFileSync(join(home, 'audit.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);

  it("gives the model the servers' tools, runs an allowlisted one unasked, masks and wraps what it returns, and audits the call", async () => {
    const home = join(dir, 'home-1');
    fake.requests.length = 0;
    fake.enqueue(
      { toolCalls: [{ name: 'everything__echo', args: { message: `db password=${SECRET}` } }] },
      { text: 'The server echoed it.' },
    );
    const result = await run(home, ['echo something']);
    assert.equal(result.exitCode, 0, result.stderr);
    assert.match(result.stdout, /The server echoed it\./);
    // The server that did not start is one line naming it; the session went on without it.
    const warnings = result.stderr.split('\n').filter((line) => line.includes('MCP server'));
    assert.equal(warnings.length, 1, result.stderr);
    assert.match(
      warnings[0]!,
      /^opsmate: warn: MCP server "broken" \(stdio: .*\) did not start: .*its stderr ends: misbehaving: cannot open/,
    );
    const names = toolNamesOf(fake.requests[0]!);
    assert.ok(names.includes('ShellCommand'));
    assert.ok(names.includes('everything__echo'));
    assert.ok(names.includes('fs__read_text_file'));
    assert.ok(!names.some((name) => name.startsWith('broken__')));
    const [received] = toolResultsOf(fake.requests[1]!);
    assert.match(
      received!,
      /^everything__echo returned:\n<untrusted-data id="(\w+)" source="mcp_everything\/echo">\nEcho: db password=\[REDACTED[^\]]*\]\n<\/untrusted-data id="\1">$/,
    );
    assert.ok(!received!.includes(SECRET), 'the secret reached the model');
    const log = audit(home);
    const records = log.filter((entry) => entry.tool === 'everything__echo');
    const started = records.find((entry) => entry.type === 'started');
    const finished = log.find((entry) => entry.type === 'finished' && entry.of === started?.n);
    assert.ok(started, 'no started record');
    assert.equal(started.runtime, 'mcp');
    assert.deepEqual(started.target, { server: 'everything' });
    assert.equal(started.rule, 'builtin:read-only-tool');
    assert.equal(started.instruction, 'echo something');
    assert.match(String(started.command), /^everything__echo \{"message":"db password=\[REDACTED/);
    assert.ok(!JSON.stringify(log).includes(SECRET), 'the secret reached the audit log');
    assert.equal(finished?.exitCode, 0);
    assert.equal(finished?.redactions, 1);
  });

  it('does not run a tool nobody declared read-only when there is no terminal to ask, and says why', async () => {
    const home = join(dir, 'home-2');
    fake.requests.length = 0;
    fake.enqueue(
      {
        toolCalls: [
          { name: 'fs__write_file', args: { path: join(files, 'app.conf'), content: 'listen 9090\n' } },
        ],
      },
      { text: 'I could not change it.' },
    );
    const result = await run(home, ['change the port']);
    assert.equal(result.exitCode, 0, result.stderr);
    assert.equal(readFileSync(join(files, 'app.conf'), 'utf8'), 'listen 8080\n', 'the tool ran unasked');
    const [received] = toolResultsOf(fake.requests[1]!);
    assert.match(
      received!,
      /^The fs__write_file call was NOT run: needs approval \(fs__write_file may change things .*\[builtin:tool-may-change-things\]\) but there is no terminal to ask\./,
    );
    const refused = audit(home).find((entry) => entry.tool === 'fs__write_file');
    assert.equal(refused?.type, 'refused');
    assert.equal(refused?.outcome, 'cancelled');
    assert.equal(refused?.decidedBy, 'no-terminal');
    assert.equal(refused?.runtime, 'mcp');
  });

  it("runs what a policy rule allows by the tool's name, and denies what a rule denies", async () => {
    const home = join(dir, 'home-3');
    mkdirSync(home, { recursive: true });
    const policy = join(home, 'policy.yaml');
    writeFileSync(
      policy,
      [
        'rules:',
        '  - { action: allow, tools: ["fs__read_*", "fs__list_*"], runtime: mcp, target: { server: fs } }',
        '  - { action: deny, tools: ["fs__write_file"], reason: config files change through review only }',
        '',
      ].join('\n'),
    );
    fake.requests.length = 0;
    fake.enqueue(
      {
        toolCalls: [
          { name: 'fs__read_text_file', args: { path: join(files, 'app.conf') } },
          { name: 'fs__write_file', args: { path: join(files, 'app.conf'), content: 'x\n' } },
        ],
      },
      { text: 'It listens on 8080.' },
    );
    const result = await run(home, ['--policy-file', policy, 'which port?']);
    assert.equal(result.exitCode, 0, result.stderr);
    const [read, write] = toolResultsOf(fake.requests[1]!);
    assert.match(read!, /^fs__read_text_file returned:\n<untrusted-data[^>]*>\nlisten 8080\n/);
    assert.match(
      write!,
      /^The fs__write_file call was NOT run: denied by policy rule .*policy\.yaml#2: config files change through review only\./,
    );
    assert.equal(readFileSync(join(files, 'app.conf'), 'utf8'), 'listen 8080\n');
    const records = audit(home);
    assert.equal(
      records.find((entry) => entry.tool === 'fs__read_text_file' && entry.type === 'started')?.rule,
      `${policy}#1`,
    );
    assert.equal(records.find((entry) => entry.tool === 'fs__write_file')?.outcome, 'denied');
  });

  it('stops a running MCP call on Ctrl-C, records it as cancelled by SIGINT, and stops the server', async () => {
    const home = join(dir, 'home-sigint');
    mkdirSync(home);
    // A title of its own, to find the server's process among others' (node --title sets its cmdline).
    const title = `wt-mcp-sigint-${process.pid}-${Date.now()}`;
    const slow = join(dir, 'slow.json');
    writeFileSync(
      slow,
      JSON.stringify({
        mcpServers: {
          slow: {
            command: process.execPath,
            args: [`--title=${title}`, EVERYTHING],
            readOnly: ['trigger-long-running-operation'],
          },
        },
      }),
    );
    fake.enqueue({
      toolCalls: [{ name: 'slow__trigger_long_running_operation', args: { duration: 60, steps: 60 } }],
    });
    const cli = startCliIsolated({
      home,
      args: ['run', '--mcp-config', slow, 'wait for it'],
      env: { OPENAI_BASE_URL: fake.openAiBaseUrl, OPENAI_API_KEY: 'sk-fake-key-for-tests' },
    });
    const auditLog = join(home, '.opsmate', 'audit.jsonl');
    const running = () =>
      existsSync(auditLog) && readAuditCommands(auditLog).some((record) => record.tool !== undefined);
    for (let tries = 0; !running(); tries++) {
      assert.ok(tries < 600, 'the call never started');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.ok(serverRunning(title), 'the server is not running during the call');
    cli.kill('SIGINT');
    const result = await cli.done;
    assert.equal(result.exitCode, 130, result.stderr);
    const [call] = readAuditCommands(auditLog).filter(
      (record) => record.tool === 'slow__trigger_long_running_operation',
    );
    assert.equal(call?.cancelled, true, JSON.stringify(call));
    assert.equal(call?.signal, 'SIGINT');
    assert.equal(call?.exitCode, null);
    assert.equal(serverRunning(title), false, 'the MCP server outlived opsmate');
  });

  it('lists the MCP tools with their server in list-tools, and names a server that failed', async () => {
    const result = await runCliIsolated({ args: ['list-tools', '--mcp-config', config] });
    assert.equal(result.exitCode, 1, 'a server that failed is an exit status of 1');
    assert.match(
      result.stdout,
      /^everything__echo\s+Echo Tool\s+yes \(configured\)\s+mcp everything \(stdio\)$/m,
    );
    assert.match(result.stdout, /^fs__write_file\s+.*\s+no\s+mcp fs \(stdio\)$/m);
    assert.match(result.stdout, /^ShellCommand\s.*\s+built-in$/m);
    assert.match(result.stderr, /^opsmate: warn: MCP server "broken" .* did not start: /m);
    assert.ok(!result.stderr.includes(ARG_TOKEN), result.stderr);
  });

  it('stops with one error and a hint for a bad MCP config, before anything starts', async () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{\n  "mcpServers": {\n    "x": { "args": ["a"] }\n  }\n}\n');
    const result = await runCliIsolated({
      args: ['run', '--mcp-config', bad, 'hi'],
      env: { OPENAI_BASE_URL: fake.openAiBaseUrl, OPENAI_API_KEY: 'sk-fake-key-for-tests' },
    });
    assert.equal(result.exitCode, 2);
    assert.equal(
      result.stderr,
      `opsmate: error: ${bad}:3: mcpServers.x: needs command (a local server over stdio) or url (streamable HTTP)\nopsmate: hint: fix line 3 of ${bad} (see docs/mcp.md)\n`,
    );
  });
});

/** Whether a process whose command line is `title` exists. */
function serverRunning(title: string): boolean {
  return readdirSync('/proc').some((entry) => {
    if (!/^\d+$/.test(entry)) return false;
    try {
      return readFileSync(`/proc/${entry}/cmdline`, 'utf8').startsWith(title);
    } catch {
      return false;
    }
  });
}
