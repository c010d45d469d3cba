import { Command, Option } from 'commander';
import { pluginsDir } from '../../config/settings.js';
import { ConfigError } from '../../errors/opsmate-error.js';
import { installPlugins } from '../../plugins/plugin-installer.js';
import * as builtinTools from '../../agent/tools/builtin-tools.js';
import { builtinRegistries } from '../../plugins/plugin-loader.js';
import { describeProvides, describeSource } from '../../plugins/plugin-summary.js';
import { builtinRegistry } from '../../runtimes/builtin-runtimes.js';
import type { CliContext } from '../cli-context.js';
import { addSettingOptions, readSettings } from '../field-options.js';

export function installCommand(context: CliContext): Command {
  const command = new Command('install')
    .summary('install plugins (npm packages) that add runtimes, tools, contexts or model providers')
    .description(
      'Install opsmate plugins with npm into the plugins folder, then load and check each one. ' +
        'A plugin that fails to load is removed again and the folder is left as it was.\n' +
        'PACKAGES are npm names (opsmate-runtime-gce, opsmate-runtime-gce@^1), tarballs made by ' +
        '`npm pack`, or plugin folders (copied; use -e to link a folder you are editing).',
    )
    .argument('[packages...]', 'package names, tarballs or plugin folders')
    .option('-U, --upgrade', 'upgrade packages that are already installed to their newest version')
    .option('--force-reinstall', 'reinstall packages even when they are already installed')
    .addOption(
      new Option(
        '-e, --editable <PATH>',
        'link a plugin folder instead of copying it, so edits take effect without reinstalling; TypeScript loads without a build (repeatable)',
      ).argParser((value: string, previous: string[] | undefined) => [...(previous ?? []), value]),
    )
    .option('--no-cache-dir', "use a throwaway npm cache instead of the user's")
    .option(
      '--ignore-scripts',
      "do not run the packages' install scripts (npm runs them otherwise, with your rights)",
    )
    .addOption(
      new Option(
        '--registry <URL>',
        'npm registry to install from (default: what npm config says: ~/.npmrc, <plugins dir>/.npmrc, NPM_CONFIG_REGISTRY)',
      ),
    );
  addSettingOptions(command, ['home', 'pluginsDir', 'loglevel']);
  command.action(async (packages: string[], _options, self: Command) => {
    const options = self.opts<{
      upgrade?: boolean;
      forceReinstall?: boolean;
      editable?: string[];
      cacheDir?: boolean;
      ignoreScripts?: boolean;
      registry?: string;
    }>();
    if (options.registry !== undefined && !/^https?:\/\/\S+$/.test(options.registry)) {
      throw new ConfigError(`--registry ${JSON.stringify(options.registry)} is not an http(s) URL`, {
        hint: 'e.g. --registry https://npm.example.com/',
      });
    }
    const settings = readSettings(self, context);
    const abort = new AbortController();
    const onSigint = (): void => abort.abort();
    process.on('SIGINT', onSigint);
    try {
      const outcome = await installPlugins({
        pluginsDir: pluginsDir(settings),
        packages,
        editable: options.editable ?? [],
        upgrade: Boolean(options.upgrade),
        forceReinstall: Boolean(options.forceReinstall),
        noCacheDir: options.cacheDir === false,
        ignoreScripts: Boolean(options.ignoreScripts),
        ...(options.registry !== undefined ? { registry: options.registry } : {}),
        onNotice: (text) => context.logger.warn(text),
        createRegistry: builtinRegistry,
        createExtensions: () => {
          const { runtimes: _runtimes, ...rest } = builtinRegistries(builtinRegistry(), builtinTools);
          return rest;
        },
        signal: abort.signal,
        onDebug: (text) => context.logger.debug(text),
      });
      for (const skipped of outcome.skipped) {
        const label = [skipped.packageName, skipped.version].filter(Boolean).join(' ');
        context.stdout.write(
          `${label} is already installed (-U upgrades it, --force-reinstall reinstalls it)\n`,
        );
      }
      for (const plugin of outcome.installed) {
        const label = [plugin.packageName, plugin.version].filter(Boolean).join(' ');
        context.stdout.write(`Installed ${label}: ${describeProvides(plugin)} (${describeSource(plugin)})\n`);
      }
    } finally {
      process.off('SIGINT', onSigint);
    }
  });
  return command;
}
