import { createInterface } from 'node:readline/promises';
import { Command } from 'commander';
import { pluginsDir } from '../../config/settings.js';
import { ConfigError } from '../../errors/opsmate-error.js';
import { readInstalledSpecs } from '../../plugins/plugins-dir.js';
import { uninstallPlugins } from '../../plugins/plugin-installer.js';
import type { CliContext } from '../cli-context.js';
import { addSettingOptions, readSettings } from '../field-options.js';

export function uninstallCommand(context: CliContext): Command {
  const command = new Command('uninstall')
    .summary('remove installed plugins')
    .description(
      'Remove plugins from the plugins folder. Asks first unless -y is given; without a terminal to ' +
        'ask on, -y is required. A folder installed with -e is unlinked, never deleted.',
    )
    .argument('<packages...>', 'package names, as `opsmate list-plugins` shows them')
    .option('-y, --yes', 'do not ask for confirmation');
  addSettingOptions(command, ['home', 'pluginsDir', 'loglevel']);
  command.action(async (packages: string[], _options, self: Command) => {
    const options = self.opts<{ yes?: boolean }>();
    const directory = pluginsDir(readSettings(self, context));
    const installed = readInstalledSpecs(directory);
    const present = packages.filter((name) => installed.has(name));
    for (const name of packages.filter((candidate) => !installed.has(candidate))) {
      context.logger.warn(`skipping ${name}: it is not installed in ${directory}`);
    }
    if (present.length === 0) return;
    if (!options.yes && !(await confirm(present, context))) {
      context.stderr.write('opsmate: nothing uninstalled\n');
      process.exitCode = 1;
      return;
    }
    const { removed } = await uninstallPlugins({
      pluginsDir: directory,
      packages: present,
      onDebug: (text) => context.logger.debug(text),
    });
    for (const name of removed) context.stdout.write(`Uninstalled ${name}\n`);
  });
  return command;
}

async function confirm(packages: string[], context: CliContext): Promise<boolean> {
  if (!process.stdin.isTTY) {
    throw new ConfigError('refusing to uninstall without confirmation: there is no terminal to ask on', {
      hint: `pass -y to uninstall without asking: opsmate uninstall -y ${packages.join(' ')}`,
    });
  }
  context.stdout.write(`Uninstalling:\n${packages.map((name) => `  ${name}\n`).join('')}`);
  const reader = createInterface({ input: process.stdin, output: context.stdout });
  try {
    const answer = await reader.question('Proceed (y/N)? ');
    return /^y(?:es)?$/i.test(answer.trim());
  } finally {
    reader.close();
  }
}
