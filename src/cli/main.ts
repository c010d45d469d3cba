import { Command, CommanderError } from 'commander';
import { readFileSync } from 'node:fs';
import { pluginsDir } from '../config/settings.js';
import { errorMessage, OpsmateError } from '../errors/opsmate-error.js';
import { loadPlugins, pluginProblemLines } from '../plugins/plugin-loader.js';
import { builtinRegistry } from '../runtimes/builtin-runtimes.js';
import type { CliContext } from './cli-context.js';
import { auditCommand } from './commands/audit-command.js';
import { expandMultiLetterFlags } from './agent/agent-flags.js';
import { chatCommand } from './commands/chat-command.js';
import { execCommand } from './commands/exec-command.js';
import { installCommand } from './commands/install-command.js';
import { listContextsCommand } from './commands/list-contexts-command.js';
import { listModelsCommand } from './commands/list-models-command.js';
import { listPluginsCommand } from './commands/list-plugins-command.js';
import { listRuntimesCommand } from './commands/list-runtimes-command.js';
import { listToolsCommand } from './commands/list-tools-command.js';
import { runCommand } from './commands/run-command.js';
import { solveCommand } from './commands/solve-command.js';
import { policyCommand } from './commands/policy-command.js';
import { uninstallCommand } from './commands/uninstall-command.js';
import { Logger, type LogLevel } from './logger.js';

/** Exit status for a usage error (unknown flag, missing argument), as most CLIs use. */
const EXIT_USAGE = 2;

function packageVersion(): string {
  const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return manifest.version;
}

/** Commands that change the plugins folder: they load plugins themselves, after npm has run. */
const COMMANDS_WITHOUT_PLUGINS = new Set(['install', 'uninstall']);
/** Commands that show plugin problems in their own output rather than as warnings. */
const COMMANDS_SHOWING_PLUGINS = new Set(['list-plugins', 'list-runtimes']);

/** The value of `--name VALUE` or `--name=VALUE` before any `--`, known before parsing. */
function earlyOption(argv: readonly string[], name: string): string | undefined {
  let value: string | undefined;
  for (let index = 0; index < argv.length; index++) {
    const arg = argv[index]!;
    if (arg === '--') break;
    if (arg === name) value = argv[index + 1];
    else if (arg.startsWith(`${name}=`)) value = arg.slice(name.length + 1);
  }
  return value;
}

/** The log level asked for on the command line or in the env, known before parsing. */
function earlyLogLevel(argv: readonly string[], env: NodeJS.ProcessEnv): LogLevel {
  const value = earlyOption(argv, '--loglevel') ?? env.OPSMATE_LOGLEVEL;
  return value === 'debug' || value === 'info' || value === 'error' ? value : 'warn';
}

/** The plugins folder, known before parsing: plugins must be loaded to know the runtime options. */
function earlyPluginsDir(argv: readonly string[], env: NodeJS.ProcessEnv): string {
  return pluginsDir({
    home: earlyOption(argv, '--home') ?? env.OPSMATE_HOME,
    pluginsDir: earlyOption(argv, '--plugins-dir') ?? env.OPSMATE_PLUGINS_DIR,
  });
}

/**
 * Registers the installed plugins' runtimes, so their options exist when commander parses.
 * A broken plugin becomes one warning line naming the package; the CLI carries on without it.
 */
async function loadInstalledPlugins(
  context: CliContext,
  argv: readonly string[],
  commandName: string | undefined,
): Promise<void> {
  try {
    const plugins = await loadPlugins({
      pluginsDir: earlyPluginsDir(argv, context.env),
      registry: context.registry,
    });
    context.plugins = plugins;
    context.pluginProblems = pluginProblemLines(plugins);
  } catch (error) {
    context.pluginProblems = [`plugins folder: ${errorMessage(error)}`];
  }
  if (commandName !== undefined && COMMANDS_SHOWING_PLUGINS.has(commandName)) return;
  for (const problem of context.pluginProblems) context.logger.warn(`broken plugin ${problem}`);
}

export function buildProgram(context: CliContext): Command {
  const program = new Command('opsmate')
    .description(
      'An AI SRE assistant: a language model investigates your systems by running shell commands in a runtime you choose.',
    )
    .version(packageVersion(), '-v, --version')
    .enablePositionalOptions()
    .showSuggestionAfterError()
    .configureOutput({
      writeOut: (text) => context.stdout.write(text),
      writeErr: (text) => context.stderr.write(text),
    });
  program.addCommand(runCommand(context));
  program.addCommand(solveCommand(context));
  program.addCommand(chatCommand(context));
  program.addCommand(execCommand(context));
  program.addCommand(listModelsCommand(context));
  program.addCommand(listToolsCommand(context));
  program.addCommand(listContextsCommand(context));
  program.addCommand(listRuntimesCommand(context));
  program.addCommand(installCommand(context));
  program.addCommand(uninstallCommand(context));
  program.addCommand(listPluginsCommand(context));
  program.addCommand(policyCommand(context));
  program.addCommand(auditCommand(context));
  return program;
}

/** Runs the CLI and returns the exit status. Prints one line per failure; stacks only at debug. */
export async function main(
  argv: readonly string[] = process.argv.slice(2),
  env = process.env,
): Promise<number> {
  const logger = new Logger(earlyLogLevel(argv, env), process.stderr, env);
  const context: CliContext = {
    registry: builtinRegistry(),
    logger,
    env,
    stdout: process.stdout,
    stderr: process.stderr,
    pluginProblems: [],
  };
  try {
    const commandName = argv.find((arg) => !arg.startsWith('-'));
    if (commandName === undefined || !COMMANDS_WITHOUT_PLUGINS.has(commandName)) {
      await loadInstalledPlugins(context, argv, commandName);
    }
    const program = buildProgram(context);
    program.exitOverride();
    const overrideExits = (command: Command): void => {
      command.exitOverride();
      command.commands.forEach(overrideExits);
    };
    overrideExits(program);
    await program.parseAsync(expandMultiLetterFlags(argv), { from: 'user' });
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
