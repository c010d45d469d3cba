import { readFileSync } from 'node:fs';
import { superviseCommand, supervisedChild } from '../plugins/plugin-supervisor.js';
import type * as MainModule from './main.js';
import { commandNameOf, expandMultiLetterFlags, importsPluginCode } from './early-argv.js';

/** dist/cli-bundle/main.js: the CLI's modules bundled, for a process that imports no plugin. */
const BUNDLED_MAIN = '../cli-bundle/main.js';

export { exitProcess } from '../plugins/plugin-guard.js';

/**
 * What `bin/opsmate.js` runs. A command that will import plugin code runs under the plugin
 * supervisor (see plugin-supervisor.ts), decided from argv and the plugins' package.json files
 * before the CLI's own modules are loaded, so the supervisor costs about one Node start-up and
 * nothing more; every other command runs here. Returns the exit status.
 */
export async function runCli(options: {
  argv: readonly string[];
  env: NodeJS.ProcessEnv;
  /** The CLI script, run again for the supervised child. */
  entry: string;
}): Promise<number> {
  const { argv, env } = options;
  // What commander prints for `-v, --version` (main.ts), without loading the CLI to print it.
  if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-v')) {
    const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    process.stdout.write(`${manifest.version}\n`);
    return 0;
  }
  if (supervisedChild(env) === undefined) {
    const expanded = expandMultiLetterFlags(argv);
    const command = commandNameOf(expanded);
    if (command !== undefined && importsPluginCode(expanded, command, env)) {
      return await superviseCommand({ entry: options.entry, argv, env });
    }
  }
  // The bundle (scripts/bundle-cli.mjs) starts several times faster; plugin code never runs with
  // it: the supervised child, where plugins are imported, runs the plain modules they share.
  const { main } = (await import(
    supervisedChild(env) === undefined ? BUNDLED_MAIN : './main.js'
  )) as typeof MainModule;
  return await main(argv, env, { entry: options.entry });
}
