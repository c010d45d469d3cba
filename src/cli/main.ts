import { Command, CommanderError, Help } from 'commander';
import { readFileSync } from 'node:fs';
import type { ContextRegistry } from '../agent/contexts/builtin-contexts.js';
import type { ProviderRegistry } from '../agent/providers/provider-registry.js';
import type { ToolRegistry } from '../agent/tools/builtin-tools.js';
import { errorMessage, OpsmateError } from '../errors/opsmate-error.js';
import type { InstalledPlugin } from '../plugins/plugin-loader.js';
import type { PluginKind } from '../plugins/plugin-manifest.js';
import { crashExitCode, guardProcess } from '../plugins/plugin-guard.js';
import { supervisedChild } from '../plugins/plugin-supervisor.js';
import { builtinRegistry } from '../runtimes/builtin-runtimes.js';
import { stopRunningCommands } from './abort-on-signals.js';
import type { CliContext } from './cli-context.js';
import {
  AGENT_COMMANDS,
  earlyOption,
  earlyPluginsDir,
  expandMultiLetterFlags,
  LISTING,
  RUNTIME_COMMANDS,
  wantsHelp,
} from './early-argv.js';
import { Logger, type LogLevel } from './logger.js';

/** Exit status for a usage error (unknown flag, missing argument), as most CLIs use. */
const EXIT_USAGE = 2;

/**
 * Every command, loaded only when it runs (or for help), so a command pays only for its own
 * modules. A new command is a file in commands/ plus one line here.
 */
const COMMANDS: Readonly<Record<string, () => Promise<(context: CliContext) => Command>>> = {
  run: async () => (await import('./commands/run-command.js')).runCommand,
  solve: async () => (await import('./commands/solve-command.js')).solveCommand,
  chat: async () => (await import('./commands/chat-command.js')).chatCommand,
  exec: async () => (await import('./commands/exec-command.js')).execCommand,
  'list-models': async () => (await import('./commands/list-models-command.js')).listModelsCommand,
  'list-tools': async () => (await import('./commands/list-tools-command.js')).listToolsCommand,
  'list-contexts': async () => (await import('./commands/list-contexts-command.js')).listContextsCommand,
  'list-runtimes': async () => (await import('./commands/list-runtimes-command.js')).listRuntimesCommand,
  install: async () => (await import('./commands/install-command.js')).installCommand,
  uninstall: async () => (await import('./commands/uninstall-command.js')).uninstallCommand,
  'list-plugins': async () => (await import('./commands/list-plugins-command.js')).listPluginsCommand,
  plugin: async () => (await import('./commands/plugin-command.js')).pluginCommand,
  policy: async () => (await import('./commands/policy-command.js')).policyCommand,
  audit: async () => (await import('./commands/audit-command.js')).auditCommand,
  mcp: async () => (await import('./commands/mcp-command.js')).mcpCommand,
};

/** Commands that show plugin problems in their own output rather than as warnings. */
const COMMANDS_SHOWING_PLUGINS = new Set([
  'list-plugins',
  'list-runtimes',
  'list-tools',
  'list-contexts',
  'list-models',
]);

function packageVersion(): string {
  const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return manifest.version;
}

/** The log level asked for on the command line or in the env, known before parsing. */
function earlyLogLevel(argv: readonly string[], env: NodeJS.ProcessEnv): LogLevel {
  const value = earlyOption(argv, '--loglevel') ?? env.OPSMATE_LOGLEVEL;
  return value === 'debug' || value === 'info' || value === 'error' ? value : 'warn';
}

/**
 * Imports what the command needs from the installed plugins, and nothing else: `--version`,
 * `exec` on a built-in runtime and `list-models` without plugin providers import no plugin.
 */
async function loadNeededPlugins(
  context: CliContext,
  argv: readonly string[],
  command: string,
): Promise<void> {
  const listing = LISTING.get(command);
  if (!RUNTIME_COMMANDS.has(command) && listing === undefined) return;
  const directory = earlyPluginsDir(argv, context.env);
  const { importExtensions, pluginProblemLines, readPlugins } = await import('../plugins/plugin-loader.js');
  let plugins: InstalledPlugin[];
  try {
    plugins = readPlugins(directory);
  } catch (error) {
    context.pluginProblems = [`plugins folder: ${errorMessage(error)}`];
    warnProblems(context, command);
    return;
  }
  context.plugins = plugins;
  if (plugins.length === 0) return;
  const load = (include: (kind: PluginKind, name: string) => boolean): Promise<void> =>
    importExtensions({ pluginsDir: directory, plugins, registries: context, include });
  if (listing !== undefined) {
    await load((kind) => listing === 'all' || kind === listing);
  } else {
    const help = wantsHelp(argv);
    const runtime =
      earlyOption(argv, '--shell-command-runtime') ?? context.env.SHELL_COMMAND_RUNTIME ?? 'local';
    await load((kind, name) => kind === 'runtimes' && (help || name === runtime));
    if (AGENT_COMMANDS.has(command) && !help) {
      const contextName = earlyOption(argv, '--context', 'c') ?? context.env.OPSMATE_CONTEXT ?? 'cli';
      const model = earlyOption(argv, '--model', 'm') ?? context.env.OPSMATE_MODEL ?? '';
      const provider = model.includes(':') ? model.slice(0, model.indexOf(':')).toLowerCase() : undefined;
      await load(
        (kind, name) =>
          (kind === 'contexts' && name === contextName) || (kind === 'providers' && name === provider),
      );
      const toolsText = earlyOption(argv, '--tools') ?? context.env.OPSMATE_TOOLS ?? '';
      const named = toolsText
        .split(',')
        .map((tool) => tool.trim().toLowerCase())
        .filter(Boolean);
      const wanted = new Set(
        named.length > 0
          ? named
          : (context.contexts.get(contextName)?.definition.tools ?? []).map((tool) => tool.toLowerCase()),
      );
      await load((kind, name) => kind === 'tools' && wanted.has(name.toLowerCase()));
    }
  }
  context.pluginProblems = pluginProblemLines(plugins);
  // The chosen runtime's own problem is the command's error: said once, there.
  const chosen = RUNTIME_COMMANDS.has(command)
    ? (earlyOption(argv, '--shell-command-runtime') ?? context.env.SHELL_COMMAND_RUNTIME ?? 'local')
    : undefined;
  warnProblems(context, command, (line) => chosen === undefined || !line.includes(`: runtime "${chosen}": `));
}

function warnProblems(
  context: CliContext,
  command: string,
  include: (line: string) => boolean = () => true,
): void {
  if (COMMANDS_SHOWING_PLUGINS.has(command)) return;
  for (const problem of context.pluginProblems.filter(include))
    context.logger.warn(`broken plugin ${problem}`);
}

/**
 * Removes the `--runtime-<name>-*` options (and their values) of plugin runtimes that were not
 * imported because another runtime was chosen, with one warning each: they cannot apply.
 */
function dropUnloadedRuntimeOptions(context: CliContext, argv: readonly string[]): string[] {
  const unloaded = (context.plugins ?? []).flatMap((plugin) =>
    plugin.provides
      .filter((extension) => extension.kind === 'runtimes' && !extension.loaded && !extension.problem)
      .map((extension) => extension.name),
  );
  if (unloaded.length === 0) return [...argv];
  const kept: string[] = [];
  const warned = new Set<string>();
  for (let index = 0; index < argv.length; index++) {
    const arg = argv[index]!;
    if (arg === '--') {
      kept.push(...argv.slice(index));
      break;
    }
    const owner = unloaded.find((name) => arg.startsWith(`--runtime-${name}-`));
    if (!owner) {
      kept.push(arg);
      continue;
    }
    if (!arg.includes('=')) index++;
    if (!warned.has(owner)) {
      warned.add(owner);
      context.logger.warn(
        `ignoring --runtime-${owner}-* options: the runtime is not ${owner} (choose it with --shell-command-runtime ${owner})`,
      );
    }
  }
  return kept;
}

/** Help whose option column stays narrow: a long option gets its description on the next line. */
const MAX_HELP_COLUMN = 44;

function configureCommand(command: Command, context: CliContext, path: string): void {
  command.exitOverride();
  command.configureOutput({
    writeOut: (text) => context.stdout.write(text),
    writeErr: (text) => context.stderr.write(text),
    outputError: (text, write) => write(formatUsageError(text, path)),
  });
  command.configureHelp({
    padWidth: (cmd, helper) => Math.min(MAX_HELP_COLUMN, Help.prototype.padWidth.call(helper, cmd, helper)),
    formatItem: (term, termWidth, description, helper) => {
      const format = Help.prototype.formatItem.bind(helper);
      if (term.length <= termWidth || !description) return format(term, termWidth, description, helper);
      return `  ${term}\n${format('', termWidth, description, helper)}`;
    },
  });
  for (const sub of command.commands) configureCommand(sub, context, `${path} ${sub.name()}`);
}

/** commander's `error: ...` and `(Did you mean ...?)` as opsmate's error and hint lines. */
export function formatUsageError(text: string, commandPath: string): string {
  const lines = text
    .trim()
    .split('\n')
    .filter((line) => line.trim() !== '');
  const message = (lines.shift() ?? 'bad usage').replace(/^error: /, '');
  const suggestion = lines.map((line) => line.replace(/^\((.*)\)$/, '$1')).join(' ');
  const hint = suggestion
    ? `${suggestion.charAt(0).toLowerCase()}${suggestion.slice(1)} See \`${commandPath} --help\`.`
    : `see \`${commandPath} --help\``;
  return `opsmate: error: ${message}\nopsmate: hint: ${hint}\n`;
}

/** The program with every command, or only `only` (none when it is ''). */
export async function buildProgram(context: CliContext, only?: string): Promise<Command> {
  const program = new Command('opsmate')
    .description(
      'An AI SRE assistant: a language model investigates your systems by running commands in a runtime you choose.',
    )
    .version(packageVersion(), '-v, --version')
    .enablePositionalOptions()
    .showSuggestionAfterError();
  const names =
    only === '' ? [] : only !== undefined && Object.hasOwn(COMMANDS, only) ? [only] : Object.keys(COMMANDS);
  for (const name of names) program.addCommand((await COMMANDS[name]!())(context));
  configureCommand(program, context, 'opsmate');
  return program;
}

/** Commands that use tools, contexts or model providers; the others never load those modules. */
const COMMANDS_WITH_AGENT_EXTENSIONS = new Set([
  'run',
  'solve',
  'chat',
  'list-tools',
  'list-contexts',
  'list-models',
  'list-plugins',
]);

/**
 * What every command starts with: the built-ins, and nothing loaded from plugins yet. Only the
 * commands that use tools, contexts or providers (and help) load those registries' modules;
 * for the others they are empty, so a plugin's tool is not registered by `exec`, for instance.
 */
export async function createCliContext(
  env: NodeJS.ProcessEnv,
  logger: Logger,
  options: { agentExtensions: boolean },
): Promise<CliContext> {
  const registry = builtinRegistry();
  const { ExtensionRegistry } = await import('../agent/extension-registry.js');
  const unused = (kind: string) =>
    new ExtensionRegistry({
      kind,
      listCommand: `opsmate list-${kind}s`,
      validate: () => `not used by this command`,
    });
  let registries: { tools: ToolRegistry; contexts: ContextRegistry; providers: ProviderRegistry };
  if (options.agentExtensions) {
    const [{ builtinToolRegistry }, { builtinContextRegistry }, { createProviderRegistry }] =
      await Promise.all([
        import('../agent/tools/builtin-tools.js'),
        import('../agent/contexts/builtin-contexts.js'),
        import('../agent/providers/provider-registry.js'),
      ]);
    registries = {
      tools: builtinToolRegistry(),
      contexts: builtinContextRegistry(),
      providers: createProviderRegistry(),
    };
  } else {
    registries = {
      tools: unused('tool') as unknown as ToolRegistry,
      contexts: unused('context') as unknown as ContextRegistry,
      providers: unused('provider') as unknown as ProviderRegistry,
    };
  }
  return {
    registry,
    runtimes: registry,
    ...registries,
    logger,
    env,
    // Under the plugin supervisor, process.stdout is where plugin code writes: the user's stderr.
    stdout: supervisedChild(env)?.stdout ?? process.stdout,
    stderr: process.stderr,
    pluginProblems: [],
  };
}

export { exitProcess } from '../plugins/plugin-guard.js';

/**
 * Runs the CLI in this process and returns the exit status. Prints one line per failure; stacks
 * only at debug. `bin/opsmate.js` first hands commands that import plugin code to the plugin
 * supervisor (see cli-entry.ts), which runs them here in a child process.
 */
export async function main(
  argv: readonly string[] = process.argv.slice(2),
  env = process.env,
): Promise<number> {
  const logger = new Logger(earlyLogLevel(argv, env), process.stderr, env);
  guardProcess({
    debug: () => logger.level === 'debug',
    stopRunning: (report) =>
      stopRunningCommands(
        new Error(
          `stopped: ${report.plugin ? `plugin ${report.plugin}` : 'a callback'} crashed (${report.message})`,
        ),
      ),
  });
  const status = await runMain(argv, env, logger);
  return crashExitCode() ?? status;
}

async function runMain(argv: readonly string[], env: NodeJS.ProcessEnv, logger: Logger): Promise<number> {
  try {
    const expanded = expandMultiLetterFlags(argv);
    const commandName = expanded.find((arg) => !arg.startsWith('-'));
    const known = commandName !== undefined && Object.hasOwn(COMMANDS, commandName) && commandName !== 'help';
    const versionOnly =
      commandName === undefined && expanded.some((arg) => arg === '-v' || arg === '--version');
    const context = await createCliContext(env, logger, {
      agentExtensions: known ? COMMANDS_WITH_AGENT_EXTENSIONS.has(commandName) : !versionOnly,
    });
    if (known) await loadNeededPlugins(context, expanded, commandName);
    // `--version` needs no command; help and an unknown command need them all.
    const program = await buildProgram(context, known ? commandName : versionOnly ? '' : undefined);
    await program.parseAsync(dropUnloadedRuntimeOptions(context, expanded), { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (error) {
    return reportError(error, logger);
  }
}

function reportError(error: unknown, logger: Logger): number {
  if (error instanceof CommanderError) {
    if (error.exitCode === 0) return 0;
    return EXIT_USAGE;
  }
  if (OpsmateError.isInstance(error)) {
    process.stderr.write(`opsmate: error: ${error.message}\n`);
    if (error.hint) process.stderr.write(`opsmate: hint: ${error.hint}\n`);
    if (logger.level === 'debug' && error.stack) process.stderr.write(`${error.stack}\n`);
    return error.exitCode;
  }
  process.stderr.write(`opsmate: unexpected error: ${errorMessage(error)}\n`);
  if (logger.level === 'debug' && error instanceof Error && error.stack)
    process.stderr.write(`${error.stack}\n`);
  else process.stderr.write('opsmate: hint: run again with --loglevel debug for details\n');
  return 1;
}
