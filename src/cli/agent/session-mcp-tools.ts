import type { ToolDefinition } from '../../agent/tools/tool-contract.js';
import type { Settings } from '../../config/settings.js';
import type { McpTools } from '../../mcp/client/mcp-tools.js';
import {
  expandMcpServers,
  mcpServersConfigSection,
  parseMcpServers,
  readMcpConfigFile,
  type McpServerConfig,
  type McpServerEntry,
} from '../../mcp/client/mcp-server-config.js';
import { SecretRedactor } from '../../safety/secret-redactor.js';
import type { ToolCallGuard } from '../../safety/tool-call-guard.js';
import type { CliContext } from '../cli-context.js';
import { guardedTool } from './guarded-tool.js';

/**
 * What {@link configuredMcpServers} reads of the config file: `CliContext.config`, the
 * `LoadedConfig` of the config file API (docs/configuration.md, "For code"): its validated
 * `mcpServers:` section (once {@link mcpServersConfigSection} is registered in `CONFIG_SECTIONS`)
 * and its `env` (the environment with the file's values under it). Declared by shape, so this
 * code uses the file as soon as the CLI context carries it, and nothing until then.
 */
interface WithConfigFile {
  config?:
    | {
        read(definition: typeof mcpServersConfigSection): McpServerEntry[] | undefined;
        env: NodeJS.ProcessEnv;
      }
    | undefined;
}

/**
 * The MCP servers a command uses: the config file's `mcpServers:` section, then the
 * `--mcp-config` files, a later server of the same name replacing an earlier one. Reads and
 * validates everything, starts nothing: a bad entry is a ConfigError before anything connects.
 * `${VAR}`s are expanded from the config file's env when there is one, else from opsmate's.
 */
export async function configuredMcpServers(options: {
  settings: Pick<Settings, 'mcpConfig'>;
  context: Pick<CliContext, 'env'> & WithConfigFile;
}): Promise<McpServerConfig[]> {
  const { context } = options;
  const files = await Promise.all(options.settings.mcpConfig.map((path) => readMcpConfigFile(path)));
  const entries = [
    ...(context.config?.read(mcpServersConfigSection) ?? []),
    ...files.flatMap((file) => parseMcpServers(file)),
  ];
  return entries.length === 0 ? [] : expandMcpServers({ entries, env: context.config?.env ?? context.env });
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
  // The MCP SDK costs a few hundred ms to load: only commands that use servers load it.
  const { connectMcpServers } = await import('../../mcp/client/mcp-tools.js');
  const mcp = await connectMcpServers({
    servers: options.servers,
    timeoutMs: options.timeoutMs,
    signal: options.signal,
    reservedNames: options.reservedNames,
    onStderr: (server, line) => context.logger.debug(`MCP server "${server}": ${line}`),
  });
  warnMcpProblems(context, mcp.problems);
  const tools = mcp.tools.map((tool) =>
    guardedTool({ tool: tool.definition, guard: options.guard, origin: tool.origin, runtime: tool.runtime }),
  );
  return { tools, mcp };
}

/**
 * One warning line per server that failed. The line quotes the server's command or URL and its
 * stderr, which may hold a token (`--api-key ...`, `?token=`): masked like command output.
 */
export function warnMcpProblems(
  context: Pick<CliContext, 'env' | 'logger'>,
  problems: readonly string[],
): void {
  if (problems.length === 0) return;
  const redactor = new SecretRedactor({ env: context.env });
  for (const problem of problems) context.logger.warn(redactor.redact(problem).text);
}
