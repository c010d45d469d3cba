import { Command } from 'commander';
import type { CliContext } from '../cli-context.js';
import { addSettingOptions } from '../field-options.js';
import { outputOption, parseOutputFormat, writeJson } from '../output-format.js';
import { renderTable } from '../render/table.js';

export function listRuntimesCommand(context: CliContext): Command {
  const command = new Command('list-runtimes').summary('list the runtimes commands can run in');
  // The plugins folder is read before parsing; the options are here so they are accepted and shown.
  addSettingOptions(command, ['home', 'pluginsDir', 'loglevel']);
  command.addOption(outputOption());
  command.action(async (options: { output?: string }) => {
    if (parseOutputFormat(options.output) === 'json') {
      writeJson(context.stdout, [
        ...context.registry.list().map(({ definition, source, options: fields }) => ({
          name: definition.name,
          description: definition.description,
          source: source.kind === 'plugin' ? `plugin ${source.packageName ?? ''}`.trim() : 'built-in',
          options: fields.map((field) => ({ flag: `--${field.flag}`, env: field.env })),
        })),
        ...(context.plugins ?? []).flatMap((plugin) =>
          plugin.provides
            .filter((extension) => extension.kind === 'runtimes' && extension.problem)
            .map((extension) => ({
              name: extension.name,
              source: `plugin ${plugin.packageName}`,
              broken: extension.problem,
            })),
        ),
      ]);
      return;
    }
    const rows = context.registry
      .list()
      .map(({ definition, source }) => [
        definition.name,
        definition.description,
        source.kind === 'plugin' ? `plugin ${source.packageName ?? ''}`.trim() : 'built-in',
      ]);
    const shown = new Set<string>();
    for (const plugin of context.plugins ?? []) {
      for (const extension of plugin.provides) {
        if (extension.kind !== 'runtimes' || !extension.problem) continue;
        rows.push([extension.name, `BROKEN: ${extension.problem}`, `plugin ${plugin.packageName}`]);
        shown.add(`${plugin.packageName}: runtime "${extension.name}": ${extension.problem}`);
      }
    }
    context.stdout.write(
      await renderTable({
        title: 'Runtimes',
        head: ['Name', 'Description', 'Source'],
        rows,
        isTerminal: Boolean(context.stdout.isTTY),
      }),
    );
    for (const problem of context.pluginProblems) {
      if (!shown.has(problem)) context.stderr.write(`opsmate: broken plugin: ${problem}\n`);
    }
  });
  return command;
}
