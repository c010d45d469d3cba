import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { CLI_PATH, requireBuilt, runCliIsolated } from './run-cli.js';

export interface McpServerE2eSuiteOptions {
  /** The runtime's name, as `DescribeTarget` reports it: `local`, `docker`, `ssh`, `k8s`. */
  name: string;
  /** Shown in test names when two suites share a runtime (`docker, busybox`). */
  label?: string;
  runtimeArgs: string[];
  env?: Record<string, string>;
  skip?: string | false;
}

const SECRET = 'Sup3rS3cretValue99';

/**
 * `opsmate mcp` as an MCP client sees it, through the official SDK's client over stdio, on one
 * runtime: the tools, exact exit codes and separate stderr, state kept between calls, timeouts
 * that stop, masking, the audit log, and nothing that the policy would ask about runs (nobody can
 * be asked), with the reason in the result. Call at the top level of a test file.
 */
export function mcpServerE2eSuite(options: McpServerE2eSuiteOptions): void {
  describe(
    `opsmate mcp over stdio: ${options.label ?? options.name} runtime`,
    { skip: options.skip || false },
    () => {
      let home: string;
      let client: Client;
      before(async () => {
        requireBuilt();
        home = mkdtempSync(join(tmpdir(), 'wt-mcp-serve-'));
        client = new Client({ name: 'opsmate-test', version: '1.0.0' });
        await client.connect(
          new StdioClientTransport({
            command: process.execPath,
            args: [CLI_PATH, 'mcp', ...options.runtimeArgs],
            env: {
              PATH: process.env.PATH ?? '/usr/bin:/bin',
              HOME: home,
              OPSMATE_HOME: join(home, '.opsmate'),
              LANG: 'C.UTF-8',
              ...options.env,
            },
            stderr: 'pipe',
          }),
        );
      });
      after(async () => {
        await client?.close();
      });

      const call = async (
        name: string,
        args: Record<string, unknown>,
      ): Promise<CallToolResult & { text: string }> => {
        const result = (await client.callTool({ name, arguments: args })) as CallToolResult;
        const text = result.content
          .map((part) => (part.type === 'text' ? part.text : `[${part.type}]`))
          .join('\n');
        return { ...result, text };
      };
      const shell = (command: string, timeout?: number) =>
        call('ShellCommand', { description: 'test', command, ...(timeout !== undefined ? { timeout } : {}) });
      const audit = (): Array<Record<string, unknown>> =>
        readFileSync(join(home, '.opsmate', 'audit.jsonl'), 'utf8')
          .trim()
          .split('\n')
          .map((line) => JSON.parse(line) as Record<string, unknown>);

      it("lists opsmate's tools, with the read-only ones marked", async () => {
        const { tools } = await client.listTools();
        assert.deepEqual(
          tools.map((tool) => tool.name),
          ['ShellCommand', 'ReadSpilledOutput', 'FileEditor', 'FetchUrl', 'DescribeTarget'],
        );
        assert.equal(tools.find((tool) => tool.name === 'DescribeTarget')?.annotations?.readOnlyHint, true);
        assert.equal(tools.find((tool) => tool.name === 'ShellCommand')?.annotations?.readOnlyHint, false);
        assert.deepEqual(tools.find((tool) => tool.name === 'ShellCommand')?.inputSchema.required, [
          'command',
        ]);
      });

      it('answers a call with bad arguments or of an unknown tool with an error the client can fix', async () => {
        const bad = await call('ShellCommand', { command: '' });
        assert.equal(bad.isError, true);
        assert.match(
          bad.text,
          /^Invalid arguments for ShellCommand; nothing was run\. Fix these and call it again:\n- command: /,
        );
        const unknown = await call('RunAnything', {});
        assert.equal(unknown.isError, true);
        assert.match(unknown.text, /^There is no tool RunAnything; the tools are ShellCommand, /);
      });

      it('describes the target', async () => {
        const result = await call('DescribeTarget', {});
        assert.equal(result.isError, undefined, result.text);
        assert.match(result.text, new RegExp(`Runtime: ${options.name}`));
        assert.match(result.text, /User:\n<untrusted-data id="\w+" source="user">\n\S+\n/);
      });

      it('gives the exact exit code, stderr apart, and keeps the working directory between calls', async () => {
        const failed = await shell('cat /nonexistent-wt-mcp');
        assert.equal(failed.structuredContent?.exitCode, 1);
        assert.match(failed.text, /Exit code: 1/);
        assert.match(
          failed.text,
          /Stderr[^\n]*:\n<untrusted-data[^>]*>\n[^\n]*nonexistent-wt-mcp[^\n]*No such file/,
        );
        assert.equal((await shell('cd /tmp')).structuredContent?.exitCode, 0);
        const where = await shell('pwd');
        assert.match(where.text, /\n\/tmp\n/);
        assert.equal(where.structuredContent?.exitCode, 0);
      });

      it('masks secrets in what it returns and records the command, masked, in the audit log', async () => {
        // Quotes split the secret in the command (which the result repeats as the client sent it);
        // the shell joins it in the output, which is what must be masked.
        const result = await shell(`echo db password=${SECRET.slice(0, 6)}''${SECRET.slice(6)}`);
        assert.equal(result.structuredContent?.exitCode, 0);
        assert.match(result.text, /db password=\[REDACTED/);
        assert.ok(!result.text.includes(SECRET), result.text);
        const log = audit();
        const started = log.find(
          (entry) => entry.type === 'started' && String(entry.command).startsWith('echo db'),
        );
        assert.ok(started, 'no started record');
        assert.equal(started.runtime, options.name);
        assert.equal(started.profile, 'read-only');
        assert.ok(!JSON.stringify(log).includes(SECRET), 'the secret reached the audit log');
        const finished = log.find((entry) => entry.type === 'finished' && entry.of === started.n);
        assert.equal(finished?.exitCode, 0, JSON.stringify(log.slice(-3)));
        assert.equal(finished?.redactions, 1, JSON.stringify(finished));
      });

      it('runs nothing the policy would ask about, and says why', async () => {
        const setUp = await runCliIsolated({
          args: ['exec', ...options.runtimeArgs, '--', 'mkdir -p /tmp/wt-mcp-keep'],
          ...(options.env ? { env: options.env } : {}),
        });
        assert.equal(setUp.exitCode, 0, setUp.stderr);
        const removed = await shell('rm -rf /tmp/wt-mcp-keep');
        assert.equal(removed.isError, true);
        assert.equal(removed.structuredContent?.notRun, true);
        assert.equal(removed.structuredContent?.exitCode, null);
        assert.match(removed.text, /NOT run/);
        assert.match(
          removed.text,
          /opsmate mcp cannot ask anyone \(its client is a program, and it has no terminal of its own\)/,
        );
        assert.equal((await shell('test -d /tmp/wt-mcp-keep')).structuredContent?.exitCode, 0, 'it ran');
        const created = await call('FileEditor', {
          command: 'create',
          path: '/tmp/wt-mcp-keep/new.txt',
          content: 'x\n',
        });
        assert.match(created.text, /NOT run/);
        assert.match(created.text, /cannot ask anyone/);
        assert.equal(
          (await shell('test -e /tmp/wt-mcp-keep/new.txt')).structuredContent?.exitCode,
          1,
          'it wrote',
        );
        const refused = audit().filter((entry) => entry.type === 'refused');
        assert.ok(
          refused.some(
            (entry) => entry.command === 'rm -rf /tmp/wt-mcp-keep' && entry.decidedBy === 'no-terminal',
          ),
        );
        assert.ok(refused.some((entry) => entry.tool === 'FileEditor'));
      });

      it('cuts big output and lets the client read the rest with ReadSpilledOutput', async () => {
        const big = await shell('seq 1 30000');
        assert.equal(big.structuredContent?.exitCode, 0);
        const file = /The full text is in stdout: (\S+?);/.exec(big.text)?.[1];
        assert.ok(file, big.text.slice(-600));
        assert.doesNotMatch(big.text, /\n15000\n/);
        const part = await call('ReadSpilledOutput', { file, startLine: 15000, lineCount: 2 });
        assert.equal(part.isError, undefined, part.text);
        assert.match(part.text, /15000\n[^\n]*15001/);
        const other = await call('ReadSpilledOutput', { file: '/etc/passwd' });
        assert.equal(other.isError, true, 'a file that is not a spill file of this session was read');
      });

      it('views a file on the target through FileEditor', async () => {
        const viewed = await call('FileEditor', {
          command: 'view',
          path: '/etc/passwd',
          startLine: 1,
          endLine: 1,
        });
        assert.equal(viewed.isError, undefined, viewed.text);
        assert.match(viewed.text, /1\troot:/);
      });

      it('stops a running command when the client cancels the call (its Ctrl-C), and records it as cancelled', async () => {
        const controller = new AbortController();
        const pending = client.callTool(
          { name: 'ShellCommand', arguments: { command: 'sleep 29' } },
          undefined,
          { signal: controller.signal },
        );
        // Cancel once the command is running: its started record is in the audit log.
        const running = () =>
          audit().some((entry) => entry.type === 'started' && entry.command === 'sleep 29');
        for (let tries = 0; !running(); tries++) {
          assert.ok(tries < 600, 'the command never started');
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        controller.abort();
        await assert.rejects(pending, /abort/i);
        // Calls run in order: this one starts once the cancelled command has stopped.
        assert.equal((await shell('echo after cancel')).structuredContent?.exitCode, 0);
        const log = audit();
        const started = log.find((entry) => entry.type === 'started' && entry.command === 'sleep 29');
        const finished = log.find((entry) => entry.type === 'finished' && entry.of === started?.n);
        assert.equal(finished?.cancelled, true, JSON.stringify(finished));
        assert.equal(finished?.exitCode, null);
      });

      it('stops a command at its timeout and reports no exit code', async () => {
        const result = await shell('sleep 30', 1);
        assert.equal(result.structuredContent?.timedOut, true);
        assert.equal(result.structuredContent?.exitCode, null);
        assert.match(result.text, /timed out|timeout/i);
        assert.equal((await shell('echo after')).structuredContent?.exitCode, 0);
      });
    },
  );
}
