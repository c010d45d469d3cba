import { Command } from 'commander';
import { pluginsDir } from '../../config/settings.js';
import { pluginWorks } from '../../plugins/plugin-loader.js';
import { describeProvides, describeSource } from '../../plugins/plugin-summary.js';
import type { CliContext } from '../cli-context.js';
import { addSettingOptions, readSettings } from '../field-options.js';
import { outputOption, parseOutputFormat, writeJson } from '../output-format.js';
import { renderTable } from '../render/table.js';

export function listPluginsCommand(context: CliContext): Command {
  const command = new Command('list-plugins').summary(
    'list installed plugins: versions, what they provide, and broken ones',
  );
  addSettingOptions(command, ['home', 'pluginsDir', 'loglevel']);
  command.addOption(outputOption());
  command.action(async (options: { output?: string }, self: Command) => {
    const directory = pluginsDir(readSettings(self, context));
    const plugins = context.plugins ?? [];
    if (parseOutputFormat(options.output) === 'json') {
      writeJson(
        context.stdout,
        plugins.map((plugin) => ({
          packageName: plugin.packageName,
          version: plugin.version ?? null,
          spec: plugin.spec,
          source: describeSource(plugin),
          provides: plugin.provides.map((extension) => ({
            kind: extension.kind,
            name: extension.name,
            ...(extension.problem ? { problem: extension.problem } : {}),
          })),
          status: !pluginWorks(plugin) ? 'broken' : plugin.versionMismatch ? 'wrong opsmate version' : 'ok',
          problems: plugin.problems,
          installScripts: plugin.installScripts,
        })),
      );
      return;
    }
    if (plugins.length === 0) {
      context.stdout.write(`No plugins installed in ${directory} (add one with \`opsmate install NAME\`).\n`);
    } else {
      const rows = plugins.map((plugin) => [
        plugin.packageName,
        plugin.version ?? '?',
        describeProvides(plugin),
        !pluginWorks(plugin) ? 'broken' : plugin.versionMismatch ? 'wrong opsmate version' : 'ok',
        describeSource(plugin),
      ]);
      context.stdout.write(
        await renderTable({
          title: `Plugins in ${directory}`,
          head: ['Package', 'Version', 'Provides', 'Status', 'Source'],
          rows,
          isTerminal: Boolean(context.stdout.isTTY),
        }),
      );
    }
    for (const problem of context.pluginProblems) context.stdout.write(`broken: ${problem}\n`);
    for (const plugin of plugins) {
      if (plugin.versionMismatch)
        context.stdout.write(`version: ${plugin.packageName}: ${plugin.versionMismatch}\n`);
      if (plugin.installScripts.length > 0) {
        context.stdout.write(
          `scripts: ${plugin.packageName} has install scripts: ${plugin.installScripts.join('; ')}\n`,
        );
      }
    }
  });
  return command;
}
