import { Command, CommanderError, Help } from 'commander';
import { readFileSync } from 'node:fs';
import type { ContextRegistry } from '../agent/contexts/builtin-contexts.js';
import type { ProviderRegistry } from '../agent/providers/provider-registry.js';
import type { ToolRegistry } from '../agent/tools/builtin-tools.js';
import { configFrom, loadConfig, type LoadedConfig } from '../config/load-config.js';
import { errorMessage, OpsmateError } from '../errors/opsmate-error.js';
import type { InstalledPlugin } from '../plugins/plugin-loader.js';
import type { PluginKind } from '../plugins/plugin-manifest.js';
import { crashExitCode, guardProcess } from '../plugins/plugin-guard.js';
import { supervisedChild } from '../plugins/plugin-supervisor.js';
import { builtinRegistry } from '../runtimes/builtin-runtimes.js';
import { exitQuietlyWhenStdoutCloses, stopRunningCommands } from './abort-on-signals.js';
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

/** What a bare `opsmate` prints: where to start, not the whole reference. */
const GETTING_STARTED = `opsmate: an AI SRE assistant. The model investigates by proposing commands; opsmate runs them
where you say, judged by a policy and recorded in an audit log.

Start:
  opsmate run "why is nginx returning 502?"        one question, one round of commands
  opsmate solve "the disk on db-1 is filling up"    several rounds, then an answer
  opsmate chat                                      a conversation (/help inside)
  opsmate exec -- df -h                             one command, no model

Where commands run: --shell-command-runtime local|ssh|docker|k8s (see opsmate list-runtimes),
  e.g. opsmate solve --shell-command-runtime ssh --runtime-ssh-host db-1 "..."
Which model: -m MODEL (see opsmate list-models); the key from OPENAI_API_KEY, ANTHROPIC_API_KEY...
Settings: flags, env vars, or ~/.opsmate/config.yaml (opsmate config show).

More: opsmate --help (every command), opsmate COMMAND --help, opsmate COMMAND --help-all.
`;

/** Examples at the end of a command's help. */
const EXAMPLES: Readonly<Record<string, readonly string[]>> = {
  run: [
    'opsmate run "what is using the most memory?"',
    'journalctl -u nginx | opsmate run "why did it restart?"',
    'opsmate run -o json "is the disk full?" | jq .answer',
  ],
  solve: [
    'opsmate solve "the API returns 502s since 14:00"',
    'opsmate solve --shell-command-runtime ssh \\',
    '  --runtime-ssh-host db-1 "why is postgres slow?"',
    'opsmate solve -r "free up space on /var"   (review each)',
  ],
  chat: [
    'opsmate chat',
    'opsmate chat --continue        (the last session)',
    'opsmate chat --shell-command-runtime docker \\',
    '  --runtime-docker-container-name web',
  ],
  exec: [
    'opsmate exec -- df -h',
    'opsmate exec --shell-command-runtime k8s \\',
    '  --runtime-k8s-pod api-0 -- ps aux',
  ],
};

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
  'list-targets': async () => (await import('./commands/list-targets-command.js')).listTargetsCommand,
  install: async () => (await import('./commands/install-command.js')).installCommand,
  uninstall: async () => (await import('./commands/uninstall-command.js')).uninstallCommand,
  'list-plugins': async () => (await import('./commands/list-plugins-command.js')).listPluginsCommand,
  plugin: async () => (await import('./commands/plugin-command.js')).pluginCommand,
  policy: async () => (await import('./commands/policy-command.js')).policyCommand,
  audit: async () => (await import('./commands/audit-command.js')).auditCommand,
  mcp: async () => (await import('./commands/mcp-command.js')).mcpCommand,
  sessions: async () => (await import('./commands/sessions-command.js')).sessionsCommand,
  ingest: async () => (await import('./commands/ingest-command.js')).ingestCommand,
  kb: async () => (await import('./commands/kb-command.js')).kbCommand,
  config: async () => (await import('./commands/config-command.js')).configCommand,
  version: async () => (await import('./commands/version-command.js')).versionCommand,
  completion: async () => (await import('./commands/completion-command.js')).completionCommand,
  prom: async () => (await import('./commands/prom-command.js')).promCommand,
  alerts: async () => (await import('./commands/alerts-command.js')).alertsCommand,
  logs: async () => (await import('./commands/logs-command.js')).logsCommand,
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

/**
 * The log level asked for on the command line or in the env (or, once it is read, the config
 * file: `env` is then the config's merged env), known before parsing.
 */
function earlyLogLevel(argv: readonly string[], env: NodeJS.ProcessEnv): LogLevel {
  const value = earlyOption(argv, '--loglevel') ?? env.OPSMATE_LOGLEVEL;
  return value === 'debug' || value === 'info' || value === 'error' ? value : 'warn';
}

/**
 * Options every command takes, with a value, that may also come before the command name
 * (`opsmate --loglevel debug run ...`): they are moved after the command (and subcommand) name.
 */
const GLOBAL_VALUE_OPTIONS = new Set(['--loglevel', '--home', '--config', '--plugins-dir']);
/** The settings behind {@link GLOBAL_VALUE_OPTIONS}, added to every command that lacks them. */
const GLOBAL_SETTINGS = ['home', 'config', 'pluginsDir', 'loglevel'] as const;
const GLOBAL_FLAGS: Record<(typeof GLOBAL_SETTINGS)[number], string> = {
  home: 'home',
  config: 'config',
  pluginsDir: 'plugins-dir',
  loglevel: 'loglevel',
};

/** Takes the global options off the front of `argv`: `--loglevel debug run x` → globals, `run x`. */
export function splitLeadingGlobals(argv: readonly string[]): { globals: string[]; rest: string[] } {
  const globals: string[] = [];
  let index = 0;
  while (index < argv.length) {
    const arg = argv[index]!;
    const name = arg.includes('=') ? arg.slice(0, arg.indexOf('=')) : arg;
    if (!GLOBAL_VALUE_OPTIONS.has(name)) break;
    if (arg.includes('=')) {
      globals.push(arg);
      index += 1;
    } else {
      if (index + 1 >= argv.length) break;
      globals.push(arg, argv[index + 1]!);
      index += 2;
    }
  }
  return { globals, rest: argv.slice(index) };
}

/** Puts `globals` right after the command's path (`audit show`, `run`) in `argv`. */
function insertGlobals(program: Command, argv: readonly string[], globals: readonly string[]): string[] {
  if (globals.length === 0) return [...argv];
  let index = argv.findIndex((arg) => !arg.startsWith('-'));
  if (index < 0) return [...argv];
  let command: Command | undefined = program.commands.find((candidate) => candidate.name() === argv[index]);
  while (command) {
    const next = argv[index + 1];
    const sub: Command | undefined = command.commands.find((candidate) => candidate.name() === next);
    if (!sub) break;
    command = sub;
    index++;
  }
  if (!command) return [...argv];
  return [...argv.slice(0, index + 1), ...globals, ...argv.slice(index + 1)];
}

/** Adds the global options to every command that runs (a leaf) and lacks them. */
async function addGlobalOptions(command: Command): Promise<void> {
  if (command.commands.length > 0) {
    for (const sub of command.commands) await addGlobalOptions(sub);
    return;
  }
  const missing = GLOBAL_SETTINGS.filter(
    (key) => !command.options.some((option) => option.long === `--${GLOBAL_FLAGS[key]}`),
  );
  if (missing.length === 0) return;
  const { addSettingOptions } = await import('./field-options.js');
  addSettingOptions(command, missing);
}

/**
 * Imports what the command needs from the installed plugins, and nothing else: `--version`,
 * `exec` on a built-in runtime and `list-models` without plugin providers import no plugin.
 */
async function loadNeededPlugins(
  context: CliContext,
  argv: readonly string[],
  command: string,
  options: { supervise: boolean },
): Promise<void> {
  const listing = LISTING.get(command);
  if (!RUNTIME_COMMANDS.has(command) && listing === undefined) return;
  const env = context.config.env;
  const directory = earlyPluginsDir(argv, env);
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
  const load = async (include: (kind: PluginKind, name: string) => boolean): Promise<void> => {
    const wanted = plugins.some((plugin) =>
      plugin.provides.some((extension) => !extension.problem && include(extension.kind, extension.name)),
    );
    // Plugin code runs only under the supervisor: its stdout kept off opsmate's, a hang bounded.
    if (wanted && options.supervise) throw new NeedsSupervision();
    await importExtensions({ pluginsDir: directory, plugins, registries: context, include });
  };
  if (listing !== undefined) {
    await load((kind) => listing === 'all' || kind === listing);
  } else {
    const help = wantsHelp(argv);
    const runtime = earlyOption(argv, '--shell-command-runtime') ?? env.SHELL_COMMAND_RUNTIME ?? 'local';
    // A target (`-t web-1`, `-t gce://...`) may be of any runtime: which one is known only from
    // the config file and inventories, read later, so every runtime plugin is loaded.
    const anyTarget = earlyOption(argv, '--target', 't') !== undefined;
    await load((kind, name) => kind === 'runtimes' && (help || anyTarget || name === runtime));
    if (AGENT_COMMANDS.has(command) && !help) {
      const contextName = earlyOption(argv, '--context', 'c') ?? env.OPSMATE_CONTEXT ?? 'cli';
      const model = earlyOption(argv, '--model', 'm') ?? env.OPSMATE_MODEL ?? '';
      const provider = model.includes(':') ? model.slice(0, model.indexOf(':')).toLowerCase() : undefined;
      await load(
        (kind, name) =>
          (kind === 'contexts' && name === contextName) || (kind === 'providers' && name === provider),
      );
      const toolsText = earlyOption(argv, '--tools') ?? env.OPSMATE_TOOLS ?? '';
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
/** Narrowest description column beside the options; narrower, descriptions go below them. */
const MIN_DESCRIPTION_COLUMN = 30;

function configureCommand(command: Command, context: CliContext, path: string): void {
  command.exitOverride();
  command.configureOutput({
    writeOut: (text) => context.stdout.write(text),
    writeErr: (text) => context.stderr.write(text),
    outputError: (text, write) => write(formatUsageError(text, path)),
  });
  command.configureHelp({
    // Over every option, hidden ones too: which runtime's options are shown must not move the column.
    padWidth: (cmd, helper) =>
      Math.min(
        MAX_HELP_COLUMN,
        Math.max(
          Help.prototype.padWidth.call(helper, cmd, helper),
          ...cmd.options.map((option) => helper.optionTerm(option).length),
        ),
      ),
    formatItem: (term, termWidth, description, helper) => {
      const format = Help.prototype.formatItem.bind(helper);
      const width = helper.helpWidth ?? 80;
      // commander does not wrap a description column narrower than 40: on a narrow terminal the
      // description goes under its option, wrapped at word boundaries to the terminal's width.
      const column = width - termWidth - 4;
      if (!description || (term.length <= termWidth && column >= MIN_DESCRIPTION_COLUMN)) {
        return format(term, termWidth, description, helper);
      }
      if (column >= MIN_DESCRIPTION_COLUMN) return `  ${term}\n${format('', termWidth, description, helper)}`;
      const indent = ' '.repeat(6);
      const wrapped = helper.boxWrap(description, Math.max(20, width - indent.length));
      return `  ${term}\n${wrapped
        .split('\n')
        .map((line) => `${indent}${line}`)
        .join('\n')}`;
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
  for (const name of names) {
    const command = (await COMMANDS[name]!())(context);
    await addGlobalOptions(command);
    const examples = EXAMPLES[name];
    if (examples)
      command.addHelpText('after', `\nExamples:\n${examples.map((line) => `  ${line}`).join('\n')}\n`);
    program.addCommand(command);
  }
  configureCommand(program, context, 'opsmate');
  return program;
}

/** Commands that use tools, contexts or model providers; the others never load those modules. */
const COMMANDS_WITH_AGENT_EXTENSIONS = new Set([
  'config',
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
  options: { agentExtensions: boolean; config?: LoadedConfig },
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
    config: options.config ?? configFrom({ path: '', explicit: false, file: undefined, env }),
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
/**
 * Thrown before plugin code would be imported outside the plugin supervisor, where the early
 * decision (argv and env only) could not know it would be: a target (`-t`) or the config file
 * chose a plugin's runtime. The command then runs again under the supervisor; nothing of it ran.
 */
class NeedsSupervision extends Error {}

export async function main(
  argv: readonly string[] = process.argv.slice(2),
  env = process.env,
  /** `entry`: the CLI script (bin/opsmate.js), to run again under the supervisor when needed. */
  options: { entry?: string } = {},
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
  const status = await runMain(argv, env, logger, options.entry);
  return crashExitCode() ?? status;
}

async function runMain(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  logger: Logger,
  entry: string | undefined,
): Promise<number> {
  exitQuietlyWhenStdoutCloses(supervisedChild(env)?.stdout ?? process.stdout);
  try {
    const expanded = expandMultiLetterFlags(argv);
    const { globals, rest } = splitLeadingGlobals(expanded);
    const commandName = rest.find((arg) => !arg.startsWith('-'));
    const known = commandName !== undefined && Object.hasOwn(COMMANDS, commandName) && commandName !== 'help';
    const versionOnly = commandName === undefined && rest.some((arg) => arg === '-v' || arg === '--version');
    // The config file comes first: it may set the log level, the home, the runtime and the model.
    const config = versionOnly
      ? undefined
      : await loadConfig({
          flag: earlyOption(expanded, '--config'),
          home: earlyOption(expanded, '--home'),
          env,
        });
    if (config?.file) logger.level = earlyLogLevel(expanded, config.env);
    const context = await createCliContext(env, logger, {
      agentExtensions: known ? COMMANDS_WITH_AGENT_EXTENSIONS.has(commandName) : !versionOnly,
      ...(config ? { config } : {}),
    });
    if (known) {
      await loadNeededPlugins(context, expanded, commandName, {
        supervise: entry !== undefined && supervisedChild(env) === undefined,
      });
    }
    // Help shows the chosen runtime's options; --help-all shows every runtime's.
    if (!rest.includes('--help-all')) {
      context.helpRuntime =
        earlyOption(expanded, '--shell-command-runtime') ??
        context.config.env.SHELL_COMMAND_RUNTIME ??
        'local';
    }
    if (config?.file) {
      const { checkConfigFile } = await import('./config-checks.js');
      checkConfigFile(context);
    }
    // `--version` needs no command; help and an unknown command need them all.
    const program = await buildProgram(context, known ? commandName : versionOnly ? '' : undefined);
    const ordered = insertGlobals(
      program,
      rest.map((arg) => (arg === '--help-all' ? '--help' : arg)),
      globals,
    );
    if (commandName === undefined && rest.length === 0 && globals.length === 0) {
      context.stdout.write(GETTING_STARTED);
      return 0;
    }
    await program.parseAsync(dropUnloadedRuntimeOptions(context, ordered), { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (error) {
    if (error instanceof NeedsSupervision && entry !== undefined) {
      logger.debug('plugin code is needed: running the command again under the plugin supervisor');
      const { superviseCommand } = await import('../plugins/plugin-supervisor.js');
      return await superviseCommand({ entry, argv, env });
    }
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
