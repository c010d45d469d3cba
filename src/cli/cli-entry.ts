import { superviseCommand, supervisedChild } from '../plugins/plugin-supervisor.js';
import { commandNameOf, expandMultiLetterFlags, importsPluginCode } from './early-argv.js';

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
  if (supervisedChild(env) === undefined) {
    const expanded = expandMultiLetterFlags(argv);
    const command = commandNameOf(expanded);
    if (command !== undefined && importsPluginCode(expanded, command, env)) {
      return await superviseCommand({ entry: options.entry, argv, env });
    }
  }
  const { main } = await import('./main.js');
  return await main(argv, env, { entry: options.entry });
}
