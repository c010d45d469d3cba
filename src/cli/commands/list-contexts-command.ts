import { Command } from 'commander';
import type { CliContext } from '../cli-context.js';
import { addSettingOptions } from '../field-options.js';
import { outputOption, parseOutputFormat, writeJson } from '../output-format.js';
import { renderTable } from '../render/table.js';
import { extensionSourceText, writeBrokenExtensions } from './list-extensions.js';

export function listContextsCommand(context: CliContext): Command {
  const command = new Command('list-contexts')
    .summary('list the contexts (-c/--context), and where each comes from')
    .addOption(outputOption())
    .action(async (options: { output?: string }) => {
      if (parseOutputFormat(options.output) === 'json') {
        writeJson(
          context.stdout,
          context.contexts.list().map(({ definition, source }) => ({
            name: definition.name,
            description: definition.description,
            tools: definition.tools,
            source: extensionSourceText(source),
          })),
        );
        writeBrokenExtensions(context, 'contexts');
        return;
      }
      context.stdout.write(
        await renderTable({
          title: 'Contexts',
          head: ['Name', 'Description', 'Tools', 'Source'],
          rows: context.contexts
            .list()
            .map(({ definition, source }) => [
              definition.name,
              definition.description,
              definition.tools.join(', '),
              extensionSourceText(source),
            ]),
          isTerminal: Boolean(context.stdout.isTTY),
        }),
      );
      writeBrokenExtensions(context, 'contexts');
    });
  // The plugins folder is read before parsing; the options are here so they are accepted and shown.
  addSettingOptions(command, ['home', 'pluginsDir', 'loglevel']);
  return command;
}
