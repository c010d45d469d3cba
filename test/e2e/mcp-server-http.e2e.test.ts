import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { integrationSkip } from '../../test-support/integration.js';
import { PtySession, ptyMissingReason } from '../../test-support/pty-session.js';
import { CLI_PATH, startCliIsolated, type RunningCli } from '../../test-support/run-cli.js';

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

// Over HTTP, opsmate runs in a terminal of its own (a pseudo-terminal from util-linux `script`
// here): what the policy asks about is asked there, one call at a time.
describe(
  'opsmate mcp over HTTP, reviewed on its terminal',
  { skip: integrationSkip('pty', ptyMissingReason()) },
  () => {
    let pty: PtySession | undefined;
    after(() => pty?.kill());

    it('asks its operator; a yes runs the command, a no does not and the client is told why', async () => {
      const home = mkdtempSync(join(tmpdir(), 'wt-mcp-http-review-'));
      const doomed = join(home, 'doomed');
      const kept = join(home, 'kept');
      mkdirSync(doomed);
      mkdirSync(kept);
      const token = 'wt-mcp-test-token-0123456789';
      pty = new PtySession([process.execPath, CLI_PATH, 'mcp', '--transport', 'http', '--port', '0'], {
        env: {
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          HOME: home,
          OPSMATE_HOME: join(home, '.opsmate'),
          NO_COLOR: '1',
          OPSMATE_MCP_TOKEN: token,
        },
      });
      const session = pty;
      let at = await session.waitFor(/at http:\/\/127\.0\.0\.1:\d+\/mcp\r?\n/);
      const url = /at (http:\/\/127\.0\.0\.1:\d+\/mcp)/.exec(session.screen)![1]!;
      assert.doesNotMatch(session.screen, /token:/, 'a given token is not printed');
      const client = new Client({ name: 'opsmate-test', version: '1.0.0' });
      await client.connect(
        new StreamableHTTPClientTransport(new URL(url), {
          requestInit: { headers: { Authorization: `Bearer ${token}` } },
        }),
      );
      try {
        const first = client.callTool({ name: 'ShellCommand', arguments: { command: `rm -r -- ${doomed}` } });
        at = await session.waitFor(/Run it\? .*: $/, at);
        assert.match(session.screen, new RegExp(`rm -r -- ${doomed}`));
        assert.ok(existsSync(doomed), 'it ran before the answer');
        session.type('y\r');
        const approved = (await first) as CallToolResult;
        assert.equal(approved.structuredContent?.exitCode, 0, JSON.stringify(approved));
        assert.equal(existsSync(doomed), false);
        const second = client.callTool({ name: 'ShellCommand', arguments: { command: `rm -r -- ${kept}` } });
        at = await session.waitFor(/Run it\? .*: $/, at);
        session.type('n\r');
        await session.waitFor(/Why not\? .*: $/, at);
        session.type('it is still in use\r');
        const declined = (await second) as CallToolResult;
        assert.equal(declined.structuredContent?.notRun, true);
        assert.match(JSON.stringify(declined.content), /it is still in use/);
        assert.ok(existsSync(kept), 'the declined command ran');
      } finally {
        await client.close();
      }
    });
  },
);
