import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { readPluginManifest, type PluginKind } from '../plugins/plugin-manifest.js';
import { installedPackageFolder, readInstalledSpecs } from '../plugins/plugins-dir.js';

/**
 * What opsmate knows from its argv before commander parses it, kept in a module that imports
 * almost nothing: `bin/opsmate.js` uses it to decide whether to run the command under the plugin
 * supervisor before loading the CLI itself.
 */

/**
 * Opsmate's two-letter short flags. commander accepts only one letter after a single dash, so
 * these are rewritten to their long forms before parsing.
 */
export const MULTI_LETTER_FLAGS: ReadonlyMap<string, string> = new Map<string, string>([
  ['-nt', '--no-tool-output'],
  ['-no', '--no-observation'],
]);

/** Rewrites `-nt`/`-no` to long flags, leaving everything after `--` alone. */
export function expandMultiLetterFlags(argv: readonly string[]): string[] {
  const end = argv.indexOf('--');
  return argv.map((arg, index) => (end >= 0 && index > end ? arg : (MULTI_LETTER_FLAGS.get(arg) ?? arg)));
}

/** Commands that run commands in a runtime: they need the chosen runtime's plugin, if any. */
export const RUNTIME_COMMANDS: ReadonlySet<string> = new Set([
  'exec',
  'policy',
  'run',
  'solve',
  'chat',
  'mcp',
  'config',
]);
/** Commands that talk to a model: they also need the chosen context, tools and provider. */
export const AGENT_COMMANDS: ReadonlySet<string> = new Set(['run', 'solve', 'chat']);
/** Commands that list one kind of extension: they import every plugin of that kind. */
export const LISTING: ReadonlyMap<string, PluginKind | 'all'> = new Map<string, PluginKind | 'all'>([
  ['list-runtimes', 'runtimes'],
  ['list-targets', 'runtimes'],
  ['list-tools', 'tools'],
  ['list-contexts', 'contexts'],
  ['list-models', 'providers'],
  ['list-plugins', 'all'],
]);
/** Commands that import the plugin they install or check, whatever is installed already. */
const IMPORTING_A_NEW_PLUGIN: ReadonlySet<string> = new Set(['install', 'plugin']);

/** The value of `--name VALUE`, `--name=VALUE` or `-s VALUE` before any `--`, known before parsing. */
export function earlyOption(argv: readonly string[], name: string, short?: string): string | undefined {
  let value: string | undefined;
  for (let index = 0; index < argv.length; index++) {
    const arg = argv[index]!;
    if (arg === '--') break;
    if (arg === name || (short !== undefined && arg === `-${short}`)) value = argv[index + 1];
    else if (arg.startsWith(`${name}=`)) value = arg.slice(name.length + 1);
    else if (short !== undefined && arg.startsWith(`-${short}`) && !arg.startsWith('--') && arg.length > 2) {
      value = arg.slice(2);
    }
  }
  return value;
}

/** The plugins folder, known before parsing (as `pluginsDir` in config/settings.ts computes it). */
export function earlyPluginsDir(argv: readonly string[], env: NodeJS.ProcessEnv): string {
  const chosen = earlyOption(argv, '--plugins-dir') ?? env.OPSMATE_PLUGINS_DIR;
  if (chosen !== undefined) return chosen;
  return join(earlyOption(argv, '--home') ?? env.OPSMATE_HOME ?? join(homedir(), '.opsmate'), 'plugins');
}

export function wantsHelp(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  return (end >= 0 ? argv.slice(0, end) : argv).some((arg) => arg === '-h' || arg === '--help');
}

/** The command's name: the first word that is not an option. */
export function commandNameOf(argv: readonly string[]): string | undefined {
  return argv.find((arg) => !arg.startsWith('-'));
}

/**
 * Whether `command` will import plugin code, from the plugins' package.json files only (no module
 * is imported): such a command runs under the plugin supervisor (plugin-supervisor.ts).
 */
export function importsPluginCode(argv: readonly string[], command: string, env: NodeJS.ProcessEnv): boolean {
  if (IMPORTING_A_NEW_PLUGIN.has(command)) return true;
  const listing = LISTING.get(command);
  if (!RUNTIME_COMMANDS.has(command) && listing === undefined) return false;
  const directory = earlyPluginsDir(argv, env);
  const provided: Array<{ kind: PluginKind; name: string }> = [];
  try {
    for (const [name] of readInstalledSpecs(directory)) {
      const root = installedPackageFolder(directory, name);
      try {
        const packageJson: unknown = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
        provided.push(...readPluginManifest(packageJson, root).entries);
      } catch {
        // reported by the command itself
      }
    }
  } catch {
    return false;
  }
  if (provided.length === 0) return false;
  if (listing !== undefined || AGENT_COMMANDS.has(command) || wantsHelp(argv)) return true;
  const runtime = earlyOption(argv, '--shell-command-runtime') ?? env.SHELL_COMMAND_RUNTIME ?? 'local';
  return provided.some((entry) => entry.kind === 'runtimes' && entry.name === runtime);
}
