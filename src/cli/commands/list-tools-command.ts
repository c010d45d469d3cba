import { Command } from 'commander';
import type { CliContext } from '../cli-context.js';
import { addSettingOptions } from '../field-options.js';
import { outputOption, parseOutputFormat, writeJson } from '../output-format.js';
import { renderTable } from '../render/table.js';
import { extensionSourceText, writeBrokenExtensions } from './list-extensions.js';

export function listToolsCommand(context: CliContext): Command {
  const command = new Command('list-tools')
    .summary('list the tools the model can be given (--tools), and where each comes from')
    .addOption(outputOption())
    .action(async (options: { output?: string }) => {
      if (parseOutputFormat(options.output) === 'json') {
        writeJson(
          context.stdout,
          context.tools.list().map(({ definition, source }) => ({
            name: definition.name,
            description: definition.summary,
            readOnly: Boolean(definition.readOnly),
            source: extensionSourceText(source),
          })),
        );
        writeBrokenExtensions(context, 'tools');
        return;
      }
      context.stdout.write(
        await renderTable({
          title: 'Tools',
          head: ['Name', 'Description', 'Reads only', 'Source'],
          rows: context.tools
            .list()
            .map(({ definition, source }) => [
              definition.name,
              definition.summary,
              definition.readOnly ? 'yes' : 'no',
              extensionSourceText(source),
            ]),
          isTerminal: Boolean(context.stdout.isTTY),
        }),
      );
      writeBrokenExtensions(context, 'tools');
    });
  // The plugins folder is read before parsing; the options are here so they are accepted and shown.
  addSettingOptions(command, ['home', 'pluginsDir', 'loglevel']);
  return command;
}
