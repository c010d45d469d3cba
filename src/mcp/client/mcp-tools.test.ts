import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { SpillFiles } from '../../agent/tools/spill-files.js';
import type { ToolContext, ToolDefinition } from '../../agent/tools/tool-contract.js';
import { FakeRuntime } from '../../../test-support/fake-runtime.js';
import { connectMcpServers, mcpToolName, type McpTools } from './mcp-tools.js';
import { mcpServersFrom, type McpServerConfig } from './mcp-server-config.js';

const require = createRequire(import.meta.url);
/** The reference servers, installed from npm as dev dependencies. */
const EVERYTHING = require.resolve('@modelcontextprotocol/server-everything/dist/index.js');
const FILESYSTEM = require.resolve('@modelcontextprotocol/server-filesystem/dist/index.js');
const MISBEHAVING = fileURLToPath(
  new URL('../../../test-support/mcp-fixtures/misbehaving-mcp-server.mjs', import.meta.url),
);

const servers = (value: Record<string, unknown>): McpServerConfig[] =>
  mcpServersFrom({ sections: [{ path: 'test.json', value, lineOf: () => 1 }], env: process.env });

const context = (): ToolContext => ({
  runtime: new FakeRuntime(),
  spillFiles: new SpillFiles(),
  maxOutputLength: 10_000,
});

const call = async (tools: McpTools, name: string, input: unknown, signal = new AbortController().signal) => {
  const tool = tools.tools.find((candidate) => candidate.definition.name === name)?.definition;
  assert.ok(tool, `no tool ${name} among ${tools.tools.map((entry) => entry.definition.name).join(', ')}`);
  const parsed = tool.inputSchema.parse(input);
  return (tool as ToolDefinition).execute(parsed as never, context(), { signal });
};

describe('MCP client against the reference servers from npm', () => {
  let folder: string;
  let tools: McpTools;
  before(async () => {
    folder = mkdtempSync(join(tmpdir(), 'wt-mcp-fs-'));
    writeFileSync(join(folder, 'notes.txt'), 'disk is 91% full on /var\n');
    tools = await connectMcpServers({
      servers: servers({
        everything: { command: process.execPath, args: [EVERYTHING] },
        files: { command: process.execPath, args: [FILESYSTEM, folder], readOnly: ['read_text_file'] },
      }),
      timeoutMs: 30_000,
      reservedNames: ['ShellCommand'],
    });
  });
  after(async () => {
    await tools?.close();
    rmSync(folder, { recursive: true, force: true });
  });

  it('offers every tool of every server as <server>__<tool>, read-only only where the user said so', () => {
    assert.deepEqual(tools.problems, []);
    const names = tools.tools.map((tool) => tool.definition.name);
    assert.ok(names.includes('everything__echo'), names.join(', '));
    assert.ok(names.includes('everything__get_env'), 'dashes become underscores');
    assert.ok(names.includes('files__read_text_file'));
    assert.ok(names.includes('files__write_file'));
    const echo = tools.tools.find((tool) => tool.definition.name === 'everything__echo')!;
    assert.equal(echo.origin, 'mcp everything');
    assert.deepEqual(echo.runtime.target(), { server: 'everything' });
    // The server hints echo is read-only; only the user's word counts.
    assert.equal(echo.definition.readOnly, false);
    assert.equal(tools.tools.find((tool) => tool.tool === 'read_text_file')!.definition.readOnly, true);
    assert.match(String(echo.definition.description), /^Tool echo of the MCP server "everything"/);
  });

  it('calls a tool and gives the model its text, wrapped as untrusted data', async () => {
    const result = await call(tools, 'everything__echo', { message: 'hello from the test' });
    assert.equal(result.isError, undefined);
    assert.match(
      result.llmContent,
      /^everything__echo returned:\n<untrusted-data id="(\w+)" source="mcp_everything\/echo">\nEcho: hello from the test\n<\/untrusted-data id="\1">$/,
    );
  });

  it('reads a file through the filesystem server, and reports its errors as errors', async () => {
    const read = await call(tools, 'files__read_text_file', { path: join(folder, 'notes.txt') });
    assert.match(read.llmContent, /disk is 91% full on \/var/);
    const outside = await call(tools, 'files__read_text_file', { path: '/etc/hostname' });
    assert.equal(outside.isError, true);
    assert.match(
      outside.llmContent,
      /^files__read_text_file reported an error:\n<untrusted-data[^>]*>\n.*denied/is,
    );
  });

  it('checks arguments against the server schema before calling', () => {
    const echo = tools.tools.find((tool) => tool.definition.name === 'everything__echo')!.definition;
    assert.equal(echo.inputSchema.safeParse({}).success, false);
    assert.equal(echo.inputSchema.safeParse({ message: 'x' }).success, true);
  });

  it("starts a local server with its own env only: none of opsmate's keys", async () => {
    const secret = 'sk-test-0123456789abcdefghij';
    process.env.OPENAI_API_KEY = secret;
    const withEnv = await connectMcpServers({
      servers: servers({
        envcheck: {
          command: process.execPath,
          args: [EVERYTHING],
          env: { GIVEN: '${WT_MCP_GIVEN:-from-default}' },
        },
      }),
      timeoutMs: 30_000,
    });
    try {
      const result = await call(withEnv, 'envcheck__get_env', {});
      assert.match(result.llmContent, /"GIVEN": "from-default"/);
      assert.doesNotMatch(result.llmContent, new RegExp(secret));
      assert.doesNotMatch(result.llmContent, /OPENAI_API_KEY/);
    } finally {
      delete process.env.OPENAI_API_KEY;
      await withEnv.close();
    }
  });

  it('gives up a call at the server timeout and cancels it, and the server keeps working', async () => {
    const slow = await connectMcpServers({
      servers: servers({ slow: { command: process.execPath, args: [EVERYTHING], timeout: 1000 } }),
      timeoutMs: 30_000,
    });
    try {
      const result = await call(slow, 'slow__trigger_long_running_operation', { duration: 30, steps: 2 });
      assert.equal(result.isError, true);
      assert.match(
        result.llmContent,
        /^MCP server "slow" did not answer the trigger-long-running-operation call within 1 s \(its timeout\); the call was cancelled$/,
      );
      assert.match(
        (await call(slow, 'slow__echo', { message: 'still here' })).llmContent,
        /Echo: still here/,
      );
    } finally {
      await slow.close();
    }
  });

  it('stops a call when its signal is aborted (Ctrl-C)', async () => {
    const controller = new AbortController();
    const pending = call(
      tools,
      'everything__trigger_long_running_operation',
      { duration: 30, steps: 30 },
      controller.signal,
    );
    setTimeout(() => controller.abort(), 300);
    const result = await pending;
    assert.equal(result.isError, true);
    assert.match(
      result.llmContent,
      /^MCP server "everything": the trigger-long-running-operation call was cancelled$/,
    );
    assert.match((await call(tools, 'everything__echo', { message: 'after' })).llmContent, /Echo: after/);
  });
});

describe('MCP client over streamable HTTP', () => {
  let server: ChildProcess;
  let port: number;
  before(async () => {
    port = 47400 + Math.floor(Math.random() * 50);
    server = spawn(process.execPath, [EVERYTHING, 'streamableHttp'], {
      env: { PATH: process.env.PATH, PORT: String(port) },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    await new Promise<void>((resolve, reject) => {
      let text = '';
      server.stderr!.on('data', (chunk: Buffer) => {
        text += chunk.toString();
        if (text.includes('listening on port')) resolve();
      });
      server.once('exit', (code) => reject(new Error(`the everything server exited ${code}: ${text}`)));
    });
  });
  after(() => {
    server?.kill();
  });

  it('lists and calls the tools of a server at a URL, with headers', async () => {
    const remote = await connectMcpServers({
      servers: servers({ remote: { url: `http://127.0.0.1:${port}/mcp`, headers: { 'X-Test': 'yes' } } }),
      timeoutMs: 30_000,
    });
    try {
      assert.deepEqual(remote.problems, []);
      const result = await call(remote, 'remote__get_sum', { a: 2, b: 40 });
      assert.match(result.llmContent, /42/);
    } finally {
      await remote.close();
    }
  });

  it('reports a URL where no server listens in one line naming it', async () => {
    const none = await connectMcpServers({
      servers: servers({ nowhere: { url: `http://127.0.0.1:${port + 50}/mcp` } }),
      timeoutMs: 10_000,
    });
    assert.equal(none.tools.length, 0);
    assert.equal(none.problems.length, 1);
    assert.match(
      none.problems[0]!,
      new RegExp(`^MCP server "nowhere" \\(http: http://127.0.0.1:${port + 50}/mcp\\) did not start: `),
    );
    assert.doesNotMatch(none.problems[0]!, /\n/);
  });
});

describe('MCP client with servers that misbehave', () => {
  const misbehaving = (mode: string, extra: Record<string, unknown> = {}) => ({
    command: process.execPath,
    args: [MISBEHAVING, mode],
    ...extra,
  });

  it('names each server that does not start, and keeps the ones that do', async () => {
    const tools = await connectMcpServers({
      servers: servers({
        exits: misbehaving('exit-at-start'),
        hangs: misbehaving('silent'),
        missing: { command: '/nonexistent/mcp-server' },
        fine: misbehaving('malformed'),
      }),
      timeoutMs: 1500,
    });
    try {
      assert.deepEqual(
        tools.tools.map((tool) => tool.definition.name),
        ['fine__work'],
      );
      const problems = tools.problems.join('\n');
      assert.equal(tools.problems.length, 3, problems);
      assert.match(
        problems,
        /^MCP server "exits" \(stdio: .*\) did not start: .*; its stderr ends: misbehaving: cannot open \/nonexistent\/config\.json$/m,
      );
      assert.match(
        problems,
        /^MCP server "hangs" \(stdio: .*\) did not start: it did not answer within 1\.5 s$/m,
      );
      assert.match(problems, /^MCP server "missing" \(stdio: \/nonexistent\/mcp-server\) did not start: /m);
    } finally {
      await tools.close();
    }
  });

  it('reports a malformed answer as an error naming the server', async () => {
    const tools = await connectMcpServers({
      servers: servers({ odd: misbehaving('malformed') }),
      timeoutMs: 10_000,
    });
    try {
      const result = await call(tools, 'odd__work', {});
      assert.equal(result.isError, true);
      assert.match(result.llmContent, /^MCP server "odd" failed the work call: /);
    } finally {
      await tools.close();
    }
  });

  it('says a server crashed during a call, and that it is gone on the next call', async () => {
    const tools = await connectMcpServers({
      servers: servers({
        crashy: misbehaving('crash-on-call'),
        other: { command: process.execPath, args: [EVERYTHING] },
      }),
      timeoutMs: 30_000,
    });
    try {
      const first = await call(tools, 'crashy__work', {});
      assert.equal(first.isError, true);
      assert.match(
        first.llmContent,
        /^MCP server "crashy" stopped during the work call: it went away; its stderr ends: misbehaving: segmentation fault \(pretend\)$/,
      );
      const second = await call(tools, 'crashy__work', {});
      assert.match(second.llmContent, /^MCP server "crashy" is not running: it went away/);
      // The rest keeps working.
      assert.match((await call(tools, 'other__echo', { message: 'ok' })).llmContent, /Echo: ok/);
    } finally {
      await tools.close();
    }
  });

  it('gives up a call that is never answered at the timeout', async () => {
    const tools = await connectMcpServers({
      servers: servers({ stuck: misbehaving('hang-on-call', { timeout: 1000 }) }),
      timeoutMs: 10_000,
    });
    try {
      const result = await call(tools, 'stuck__work', {});
      assert.match(result.llmContent, /^MCP server "stuck" did not answer the work call within 1 s/);
    } finally {
      await tools.close();
    }
  });
});

describe('mcpToolName', () => {
  it('keeps to the characters and length model APIs accept', () => {
    assert.equal(mcpToolName('my-server', 'get.thing'), 'my_server__get_thing');
    assert.equal(mcpToolName('1st', 'x'), 'mcp_1st__x');
    assert.equal(mcpToolName('s', 'x'.repeat(100)).length, 64);
  });
});
