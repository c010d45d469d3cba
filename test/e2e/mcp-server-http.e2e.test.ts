import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { startCliIsolated, type RunningCli } from '../../test-support/run-cli.js';

// `opsmate mcp --transport http` with the official SDK's streamable HTTP client, on the local
// runtime (the runtimes themselves are covered over stdio in mcp-server.e2e.test.ts).
describe('opsmate mcp over streamable HTTP', () => {
  let server: RunningCli;
  let url: string;
  let token: string;
  before(async () => {
    const home = mkdtempSync(join(tmpdir(), 'wt-mcp-http-'));
    server = startCliIsolated({ args: ['mcp', '--transport', 'http', '--port', '0'], home });
    url = (await server.waitForOutput(/at (http:\/\/127\.0\.0\.1:\d+\/mcp)\n/, 'stderr'))[1]!;
    token = (await server.waitForOutput(/token: ([0-9a-f]{64})\n/, 'stderr'))[1]!;
  });
  after(() => {
    server?.kill('SIGKILL');
  });

  const connect = async (headers: Record<string, string>): Promise<Client> => {
    const client = new Client({ name: 'opsmate-test', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } }));
    return client;
  };

  it('runs commands for clients that bring the token, two sessions on one runtime', async () => {
    const [first, second] = await Promise.all([
      connect({ Authorization: `Bearer ${token}` }),
      connect({ Authorization: `Bearer ${token}` }),
    ]);
    try {
      const [a, b] = (await Promise.all([
        first.callTool({ name: 'ShellCommand', arguments: { command: 'echo first' } }),
        second.callTool({ name: 'ShellCommand', arguments: { command: 'echo second' } }),
      ])) as CallToolResult[];
      assert.equal(a!.structuredContent?.exitCode, 0);
      assert.match(JSON.stringify(a!.content), /first/);
      assert.match(JSON.stringify(b!.content), /second/);
      const removed = (await first.callTool({
        name: 'ShellCommand',
        arguments: { command: 'rm -rf /tmp/wt-mcp-http-nothing' },
      })) as CallToolResult;
      assert.equal(removed.structuredContent?.notRun, true);
    } finally {
      await Promise.all([first.close(), second.close()]);
    }
  });

  it('refuses requests without the token, or with a wrong one', async () => {
    for (const headers of [
      {} as Record<string, string>,
      { Authorization: 'Bearer wrong' },
      { Authorization: `Bearer ${token}x` },
    ]) {
      await assert.rejects(connect(headers), /401|bearer token|Unauthorized/i);
    }
    const plain = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: '{}',
    });
    assert.equal(plain.status, 401);
    assert.equal(plain.headers.get('www-authenticate'), 'Bearer');
  });

  it('stops on SIGTERM', async () => {
    server.kill('SIGTERM');
    const done = await server.done;
    assert.equal(done.exitCode, 143, done.stderr);
  });
});
