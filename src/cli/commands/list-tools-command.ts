import { Command } from 'commander';
import { BUILTIN_TOOLS } from '../../agent/tools/builtin-tools.js';
import type { CliContext } from '../cli-context.js';
import { renderTable } from '../render/table.js';

export function listToolsCommand(context: CliContext): Command {
  return new Command('list-tools').summary('list the tools the model can be given (--tools)').action(() => {
    context.stdout.write(
      renderTable({
        title: 'Tools',
        head: ['Name', 'Description'],
        rows: BUILTIN_TOOLS.map((tool) => [tool.name, tool.summary]),
        isTerminal: Boolean(context.stdout.isTTY),
      }),
    );
  });
}
