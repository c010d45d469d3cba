import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { mcpServersConfigSection } from '../../mcp/client/mcp-server-config.js';
import { configuredMcpServers } from './session-mcp-tools.js';

describe('configuredMcpServers', () => {
  const folder = mkdtempSync(join(tmpdir(), 'wt-mcp-session-'));
  after(() => rmSync(folder, { recursive: true, force: true }));

  it("reads the config file's mcpServers section, then --mcp-config files, a later server replacing an earlier one", async () => {
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
    // LoadedConfig.read(definition): the definition validates the section (once, in the real API).
    const config = (value: unknown, env: NodeJS.ProcessEnv = {}) => ({
      env,
      read: (definition: typeof mcpServersConfigSection) => definition.read({ ...section, value }),
    });
    const servers = await configuredMcpServers({
      settings: { mcpConfig: [file] },
      context: { env: {}, config: config(section.value) },
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
    await assert.rejects(
      () =>
        configuredMcpServers({
          settings: { mcpConfig: [] },
          context: { env: {}, config: config({ bad: { args: [] } }) },
        }),
      /^ConfigError: \/home\/me\/\.opsmate\/config\.yaml:9: mcpServers\.bad: needs command/,
    );
    assert.deepEqual(await configuredMcpServers({ settings: { mcpConfig: [] }, context: { env: {} } }), []);
    // ${VAR} from the config file's env (the file's values under the environment), not only opsmate's.
    const [expanded] = await configuredMcpServers({
      settings: { mcpConfig: [] },
      context: {
        env: {},
        config: config(
          { g: { url: 'https://g/mcp', headers: { Authorization: 'Bearer ${G_TOKEN}' } } },
          { G_TOKEN: 'from-file' },
        ),
      },
    });
    assert.deepEqual(expanded?.transport === 'http' && expanded.headers, {
      Authorization: 'Bearer from-file',
    });
    // What config show would list: no env or header values.
    assert.deepEqual(
      mcpServersConfigSection.rows(
        mcpServersConfigSection.read({
          ...section,
          value: {
            g: { url: 'https://g/mcp?key=s3cret', headers: { Authorization: 'Bearer x' } },
            l: { command: 'npx', args: ['-y', 'srv'], env: { TOKEN: 'y' } },
          },
        }),
      ),
      [
        { name: 'g', value: 'http: https://g/mcp, headers Authorization', keyPath: ['g'] },
        { name: 'l', value: 'stdio: npx (2 args), env TOKEN', keyPath: ['l'] },
      ],
    );
  });
});
