import { Command } from 'commander';
import type { CliContext } from '../cli-context.js';
import { configuredMcpServers, warnMcpProblems } from '../agent/session-mcp-tools.js';
import { addSettingOptions, readSettings } from '../field-options.js';
import { renderTable } from '../render/table.js';
import { extensionSourceText, writeBrokenExtensions } from './list-extensions.js';

export function listToolsCommand(context: CliContext): Command {
  const command = new Command('list-tools')
    .summary(
      "list the tools the model can be given (--tools), MCP servers' tools too, and where each comes from",
    )
    .action(async () => {
      const settings = readSettings(command, context.env);
      const servers = await configuredMcpServers({ settings, context });
      const builtins = context.tools.list();
      // Each configured server is started and asked for its tools; one line for each that fails.
      const mcp =
        servers.length === 0
          ? undefined
          : await (
              await import('../../mcp/client/mcp-tools.js')
            ).connectMcpServers({
              servers,
              timeoutMs: Math.round(settings.connectTimeout * 1000),
              reservedNames: builtins.map(({ definition }) => definition.name),
              onStderr: (server, line) => context.logger.debug(`MCP server "${server}": ${line}`),
            });
      try {
        context.stdout.write(
          await renderTable({
            title: 'Tools',
            head: ['Name', 'Description', 'Reads only', 'Source'],
            rows: [
              ...builtins.map(({ definition, source }) => [
                definition.name,
                definition.summary,
                definition.readOnly ? 'yes' : 'no',
                extensionSourceText(source),
              ]),
              ...(mcp?.tools ?? []).map((tool) => [
                tool.definition.name,
                tool.definition.summary,
                // The user's word only: a server's readOnlyHint is not trusted.
                tool.definition.readOnly ? 'yes (configured)' : 'no',
                `${tool.origin} (${servers.find((server) => server.name === tool.server)?.transport ?? ''})`,
              ]),
            ],
            isTerminal: Boolean(context.stdout.isTTY),
          }),
        );
        warnMcpProblems(context, mcp?.problems ?? []);
        if ((mcp?.problems.length ?? 0) > 0) process.exitCode = 1;
        writeBrokenExtensions(context, 'tools');
      } finally {
        await mcp?.close();
      }
    });
  // The plugins folder is read before parsing; the options are here so they are accepted and shown.
  addSettingOptions(command, ['home', 'pluginsDir', 'loglevel', 'mcpConfig', 'connectTimeout']);
  return command;
}
