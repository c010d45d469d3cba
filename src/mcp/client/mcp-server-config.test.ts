import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { DEFAULT_MCP_CALL_TIMEOUT_MS, mcpServersFrom, readMcpConfigFile } from './mcp-server-config.js';

const folder = mkdtempSync(join(tmpdir(), 'wt-mcp-config-'));
after(() => rmSync(folder, { recursive: true, force: true }));
let counter = 0;
const file = (text: string): string => {
  const path = join(folder, `mcp-${(counter += 1)}.json`);
  writeFileSync(path, text);
  return path;
};
const load = async (text: string, env: Record<string, string> = {}) =>
  mcpServersFrom({ sections: [await readMcpConfigFile(file(text))], env });
const problem = async (text: string, env: Record<string, string> = {}): Promise<string> => {
  try {
    await load(text, env);
  } catch (error) {
    return (error as Error).message;
  }
  assert.fail('expected a ConfigError');
};

describe('MCP server config', () => {
  it("reads Claude Desktop's and gemini-cli's shapes, other keys ignored", async () => {
    const servers = await load(
      `{
  "globalShortcut": "Ctrl+Space",
  "mcpServers": {
    "files": { "command": "npx", "args": ["-y", "@modelcontextprotocol/server-filesystem", "/srv"], "env": { "DEBUG": "1" } },
    "grafana": { "url": "https://grafana.internal/mcp", "headers": { "Authorization": "Bearer \${GRAFANA_TOKEN}" }, "readOnly": true },
    "gemini-style": { "httpUrl": "http://127.0.0.1:9000/mcp", "timeout": 5000, "trust": true, "excludeTools": ["delete"] },
    "off": { "command": "x", "disabled": true }
  }
}`,
      { GRAFANA_TOKEN: 'glsa_abc' },
    );
    assert.deepEqual(
      servers.map((server) => server.name),
      ['files', 'grafana', 'gemini-style'],
    );
    const [files, grafana, gemini] = servers;
    assert.equal(files!.transport, 'stdio');
    assert.deepEqual(files!.transport === 'stdio' && files!.args, [
      '-y',
      '@modelcontextprotocol/server-filesystem',
      '/srv',
    ]);
    assert.equal(files!.timeoutMs, DEFAULT_MCP_CALL_TIMEOUT_MS);
    assert.equal(files!.readOnly, false);
    assert.match(files!.source, /mcp-\d+\.json:4$/);
    assert.deepEqual(grafana!.transport === 'http' && grafana!.headers, { Authorization: 'Bearer glsa_abc' });
    assert.equal(grafana!.readOnly, true);
    assert.equal(gemini!.transport === 'http' && gemini!.url, 'http://127.0.0.1:9000/mcp');
    assert.equal(gemini!.timeoutMs, 5000);
    assert.deepEqual(gemini!.excludeTools, ['delete']);
  });

  it('names the file, the line and the field of a bad entry', async () => {
    assert.match(
      await problem('{\n  "mcpServers": {\n    "a": { "command": "x" },\n    "b": { "args": [] }\n  }\n}'),
      /mcp-\d+\.json:4: mcpServers\.b: needs command \(a local server over stdio\) or url \(streamable HTTP\)$/,
    );
    assert.match(
      await problem('{"mcpServers": {\n"a": {\n"command": "x",\n"args": [1]\n}}}'),
      /:4: mcpServers\.a\.args\.0: /,
    );
    assert.match(await problem('{"mcpServers": {"a": {"command": "x", "url": "http://h/"}}}'), /not both/);
    assert.match(
      await problem('{"mcpServers": {"a": {"url": "http://h/sse", "type": "sse"}}}'),
      /SSE transport is not supported/,
    );
    assert.match(
      await problem('{"mcpServers": {"a": {"url": "ftp://h/"}}}'),
      /mcpServers\.a\.url: expected an http:\/\/ or https:\/\/ URL$/,
    );
    assert.match(
      await problem('{"mcpServers": {"a": {"url": "${WT_URL}/mcp"}}}', { WT_URL: 'not a url' }),
      /mcpServers\.a\.url: expected/,
    );
    const [expanded] = await load('{"mcpServers": {"a": {"url": "${WT_URL}/mcp"}}}', {
      WT_URL: 'https://grafana.internal',
    });
    assert.equal(expanded?.transport === 'http' && expanded.url, 'https://grafana.internal/mcp');
    assert.match(
      await problem('{"mcpServers": {"a b": {"command": "x"}}}'),
      /mcpServers\.a b: a server name is/,
    );
    assert.match(
      await problem('{"mcpServers": {"a": {"command": "x", "readonly": true}}}'),
      /mcpServers\.a\.readonly: unknown key readonly \(did you mean readOnly\?\)/,
    );
    assert.match(
      await problem('{"mcpServers": {"a": {"comand": "x"}}}'),
      /unknown key comand \(did you mean command\?\)/,
    );
    // Other clients' keys are theirs: ignored.
    const foreign = await load(
      '{"mcpServers": {"a": {"command": "x", "trust": true, "alwaysAllow": ["y"], "autoApprove": []}}}',
    );
    assert.equal(foreign.length, 1);
    assert.match(
      await problem('{"mcpServers": {"a": {"command": "x", "env": {"T": "${NOT_SET_HERE}"}}}}'),
      /mcpServers\.a\.env\.T: \$\{NOT_SET_HERE\} is not set \(write \$\{NOT_SET_HERE:-default\} for a default\)/,
    );
  });

  it('says what is wrong with a file that is not an MCP config', async () => {
    await assert.rejects(
      () => readMcpConfigFile(join(folder, 'absent.json')),
      /cannot read the MCP config file .*absent\.json/,
    );
    await assert.rejects(() => readMcpConfigFile(file('{"servers": {}}')), /has no "mcpServers" object/);
    await assert.rejects(
      () => readMcpConfigFile(file('{\n"mcpServers": {\n"a": [}\n}')),
      /mcp-\d+\.json(:3)?: not valid JSON: [^\n]+$/,
    );
  });

  it('lets a later section replace a server of the same name', async () => {
    const first = await readMcpConfigFile(
      file('{"mcpServers": {"a": {"command": "one"}, "b": {"command": "b"}}}'),
    );
    const second = await readMcpConfigFile(file('{"mcpServers": {"a": {"command": "two"}}}'));
    const servers = mcpServersFrom({ sections: [first, second], env: {} });
    assert.deepEqual(
      servers.map((server) => [server.name, server.transport === 'stdio' ? server.command : '']),
      [
        ['b', 'b'],
        ['a', 'two'],
      ],
    );
  });
});
