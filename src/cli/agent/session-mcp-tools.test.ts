import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { configuredMcpServers } from './session-mcp-tools.js';

describe('configuredMcpServers', () => {
  const folder = mkdtempSync(join(tmpdir(), 'wt-mcp-session-'));
  after(() => rmSync(folder, { recursive: true, force: true }));

  it("reads the config file's mcpServers section, then --mcp-config files, a later server replacing an earlier one", () => {
    const file = join(folder, 'mcp.json');
    writeFileSync(file, JSON.stringify({ mcpServers: { shared: { command: 'from-flag' } } }));
    // The shape of the config file API's ConfigSection (src/config/config-file.ts on the config branch).
    const section = {
      name: 'mcpServers',
      path: '/home/me/.opsmate/config.yaml',
      line: 7,
      value: { grafana: { url: 'https://grafana.internal/mcp' }, shared: { command: 'from-config' } },
      lineOf: (keyPath: readonly (string | number)[]) => 8 + keyPath.length,
    };
    const servers = configuredMcpServers({
      settings: { mcpConfig: [file] },
      context: { env: {}, config: { section: (name) => (name === 'mcpServers' ? section : undefined) } },
    });
    assert.deepEqual(
      servers.map((server) => [
        server.name,
        server.transport === 'stdio' ? server.command : server.url,
        server.source,
      ]),
      [
        ['grafana', 'https://grafana.internal/mcp', '/home/me/.opsmate/config.yaml:9'],
        ['shared', 'from-flag', `${file}:1`],
      ],
    );
    assert.throws(
      () =>
        configuredMcpServers({
          settings: { mcpConfig: [] },
          context: { env: {}, config: { section: () => ({ ...section, value: { bad: { args: [] } } }) } },
        }),
      /^ConfigError: \/home\/me\/\.opsmate\/config\.yaml:9: mcpServers\.bad: needs command/,
    );
    assert.deepEqual(configuredMcpServers({ settings: { mcpConfig: [] }, context: { env: {} } }), []);
  });
});
