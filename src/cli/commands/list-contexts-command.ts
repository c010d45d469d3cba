import { Command } from 'commander';
import { BUILTIN_CONTEXTS } from '../../agent/contexts/builtin-contexts.js';
import type { CliContext } from '../cli-context.js';
import { renderTable } from '../render/table.js';

export function listContextsCommand(context: CliContext): Command {
  return new Command('list-contexts').summary('list the contexts (-c/--context)').action(() => {
    context.stdout.write(
      renderTable({
        title: 'Contexts',
        head: ['Name', 'Description', 'Tools'],
        rows: BUILTIN_CONTEXTS.map((agentContext) => [
          agentContext.name,
          agentContext.description,
          agentContext.tools.join(', '),
        ]),
        isTerminal: Boolean(context.stdout.isTTY),
      }),
    );
  });
}
