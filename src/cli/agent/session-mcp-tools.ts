import type { ToolDefinition } from '../../agent/tools/tool-contract.js';
import type { Settings } from '../../config/settings.js';
import { connectMcpServers, type McpTools } from '../../mcp/client/mcp-tools.js';
import {
  mcpServersFrom,
  readMcpConfigFile,
  type McpServerConfig,
  type McpServersSection,
} from '../../mcp/client/mcp-server-config.js';
import type { ToolCallGuard } from '../../safety/tool-call-guard.js';
import type { CliContext } from '../cli-context.js';
import { guardedTool } from './guarded-tool.js';

/**
 * What {@link configuredMcpServers} reads of the config file: `CliContext.config` of the config
 * file API (docs/configuration.md, "For code"), whose `section('mcpServers')` is a
 * `ConfigSection`. Declared by shape, so this code reads the section once the CLI context carries
 * the loaded file, and nothing until then.
 */
interface WithConfigFile {
  config?: { section(name: 'mcpServers'): McpServersSection | undefined } | undefined;
}

/**
 * The MCP servers a command uses: the config file's `mcpServers:` section, then the
 * `--mcp-config` files, a later server of the same name replacing an earlier one. Reads and
 * validates everything, starts nothing: a bad entry is a ConfigError before anything connects.
 */
export function configuredMcpServers(options: {
  settings: Pick<Settings, 'mcpConfig'>;
  context: Pick<CliContext, 'env'> & WithConfigFile;
}): McpServerConfig[] {
  const { context } = options;
  const fromConfigFile = context.config?.section('mcpServers');
  const sections = [
    ...(fromConfigFile ? [fromConfigFile] : []),
    ...options.settings.mcpConfig.map((path) => readMcpConfigFile(path)),
  ];
  return sections.length === 0 ? [] : mcpServersFrom({ sections, env: context.env });
}

/**
 * Starts the servers and returns their tools, each behind the session's tool-call guard, as a
 * plugin's tool is: the policy (user `tools:` rules by name, the user's `readOnly`, else ask),
 * review, the audit log (runtime `mcp`, target `{ server }`, origin `mcp <server>`) and masking.
 * A server that does not start is one warning line naming it; the others are used.
 */
export async function openSessionMcpTools(options: {
  servers: readonly McpServerConfig[];
  context: CliContext;
  guard: ToolCallGuard;
  timeoutMs: number;
  signal: AbortSignal;
  reservedNames: readonly string[];
}): Promise<{ tools: ToolDefinition[]; mcp: McpTools }> {
  const { context } = options;
  const mcp = await connectMcpServers({
    servers: options.servers,
    timeoutMs: options.timeoutMs,
    signal: options.signal,
    reservedNames: options.reservedNames,
    onStderr: (server, line) => context.logger.debug(`MCP server "${server}": ${line}`),
  });
  for (const problem of mcp.problems) context.logger.warn(problem);
  const tools = mcp.tools.map((tool) =>
    guardedTool({ tool: tool.definition, guard: options.guard, origin: tool.origin, runtime: tool.runtime }),
  );
  return { tools, mcp };
}
