import { Command } from 'commander';
import { readFileSync } from 'node:fs';
import type { CliContext } from '../cli-context.js';
import { outputOption, parseOutputFormat, writeJson } from '../output-format.js';

export function versionCommand(context: CliContext): Command {
  return new Command('version')
    .summary("print opsmate's version (as --version does)")
    .description(
      "Print opsmate's version on one line, as Opsmate's `opsmate version` does; -o json adds the Node.js version and the platform.",
    )
    .addOption(outputOption())
    .action((options: { output?: string }) => {
      const format = parseOutputFormat(options.output);
      const manifest = JSON.parse(
        readFileSync(new URL('../../../package.json', import.meta.url), 'utf8'),
      ) as {
        version: string;
      };
      if (format === 'json') {
        writeJson(context.stdout, {
          version: manifest.version,
          node: process.version,
          platform: `${process.platform}-${process.arch}`,
        });
      } else {
        context.stdout.write(`${manifest.version}\n`);
      }
    });
}
