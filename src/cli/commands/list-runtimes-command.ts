import { Command } from 'commander';
import type { CliContext } from '../cli-context.js';
import { renderTable } from '../render/table.js';

export function listRuntimesCommand(context: CliContext): Command {
  return new Command('list-runtimes').summary('list the runtimes commands can run in').action(async () => {
    const rows = context.registry
      .list()
      .map(({ definition, source }) => [
        definition.name,
        definition.description,
        source.kind === 'plugin' ? `plugin ${source.packageName ?? ''}`.trim() : 'built-in',
      ]);
    context.stdout.write(
      await renderTable({
        title: 'Runtimes',
        head: ['Name', 'Description', 'Source'],
        rows,
        isTerminal: Boolean(context.stdout.isTTY),
      }),
    );
    for (const problem of context.pluginProblems)
      context.stderr.write(`opsmate: broken plugin: ${problem}\n`);
  });
}
