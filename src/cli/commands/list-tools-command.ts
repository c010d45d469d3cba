import { Command } from 'commander';
import type { CliContext } from '../cli-context.js';
import { configuredMcpServers, warnMcpProblems } from '../agent/session-mcp-tools.js';
import { addSettingOptions, readSettings } from '../field-options.js';
import { outputOption, parseOutputFormat, writeJson } from '../output-format.js';
import { renderTable } from '../render/table.js';
import { extensionSourceText, writeBrokenExtensions } from './list-extensions.js';

export function listToolsCommand(context: CliContext): Command {
  const command = new Command('list-tools')
    .summary(
      "list the tools the model can be given (--tools), MCP servers' tools too, and where each comes from",
    )
    .addOption(outputOption())
    .action(async (options: { output?: string }) => {
      const json = parseOutputFormat(options.output) === 'json';
      const settings = readSettings(command, context);
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
        const rows = [
          ...builtins.map(({ definition, source }) => ({
            name: definition.name,
            description: definition.summary,
            unavailable: definition.unavailable?.(context.config.env),
            readOnly: Boolean(definition.readOnly),
            shown: definition.readOnly ? 'yes' : 'no',
            source: extensionSourceText(source),
          })),
          ...(mcp?.tools ?? []).map((tool) => ({
            name: tool.definition.name,
            description: tool.definition.summary,
            // The user's word only: a server's readOnlyHint is not trusted.
            readOnly: Boolean(tool.definition.readOnly),
            unavailable: undefined as string | undefined,
            shown: tool.definition.readOnly ? 'yes (configured)' : 'no',
            source: `${tool.origin} (${servers.find((server) => server.name === tool.server)?.transport ?? ''})`,
          })),
        ];
        if (json) {
          writeJson(
            context.stdout,
            rows.map(({ name, description, readOnly, source, unavailable }) => ({
              name,
              description,
              readOnly,
              source,
              available: unavailable === undefined,
              ...(unavailable !== undefined ? { unavailableReason: unavailable } : {}),
            })),
          );
        } else {
          context.stdout.write(
            await renderTable({
              title: 'Tools',
              head: ['Name', 'Description', 'Reads only', 'Source'],
              rows: rows.map((row) => [
                row.name,
                row.unavailable === undefined
                  ? row.description
                  : `${row.description}${context.stdout.isTTY ? '\n' : ' '}(unavailable: ${row.unavailable})`,
                row.shown,
                row.source,
              ]),
              isTerminal: Boolean(context.stdout.isTTY),
            }),
          );
        }
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
