import { Option, type Command } from 'commander';
import { addTargetOptions } from '../target-options.js';
import { ConfigError } from '../../errors/opsmate-error.js';
import type { CliContext } from '../cli-context.js';
import { addRuntimeOptions, addSettingOptions, RUNTIME_COMMAND_SETTINGS } from '../field-options.js';

export { expandMultiLetterFlags, MULTI_LETTER_FLAGS } from '../early-argv.js';

/** Default `-i/--max-iter`: tool rounds before the model must answer. */
export const DEFAULT_MAX_ITER = 10;

/** The settings and runtime options every command that talks to a model takes. */
export function addAgentOptions(command: Command, context: CliContext): Command {
  addSettingOptions(command, [
    'model',
    'context',
    'tools',
    'mcpConfig',
    'systemPrompt',
    'maxOutputLength',
    'modelTimeout',
    'saveSessions',
    ...RUNTIME_COMMAND_SETTINGS,
  ]);
  command.addOption(
    new Option('-r, --review', 'show each command first and let you run it, edit it or cancel it'),
  );
  command.addOption(
    new Option(
      '-y, --yes',
      'run commands the policy asks about without asking, for unattended runs (still audited; deny rules still apply; -r wins)',
    ),
  );
  command.addOption(
    new Option(
      '--tool-calls-per-action <N>',
      'most tool calls the model may make in one step; calls beyond it are not run and the model is told so [default: no limit]',
    ),
  );
  addTargetOptions(command);
  command.addOption(
    new Option(
      '--fleet <GROUP>',
      'give the model a fleet: a group or pattern of targets (see list-targets) it may run one command on, all at once, with the FleetCommand tool',
    ),
  );
  addSettingOptions(command, ['fleetParallelism']);
  addRuntimeOptions(command, context.registry, undefined, context.helpRuntime);
  return command;
}

/** Exit status of `run`/`solve` when the model was still calling tools at the step limit. */
export const EXIT_STEP_LIMIT = 3;

/** Parses `--tool-calls-per-action`, or throws a ConfigError. */
export function parseToolCallsPerAction(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1 || value > 100) {
    throw new ConfigError(
      `--tool-calls-per-action ${JSON.stringify(text)} is not valid: expected a whole number from 1 to 100`,
      { hint: 'e.g. --tool-calls-per-action 1 (one command at a time)' },
    );
  }
  return value;
}

/** The flags every agent command's action reads, as commander gives them. */
export interface AgentCommandOptions {
  review?: boolean;
  yes?: boolean;
  toolCallsPerAction?: string;
}

export function maxIterOption(): Option {
  return new Option(
    '-i, --max-iter <N>',
    `rounds of tool calls before the model must answer [default: ${DEFAULT_MAX_ITER}]`,
  );
}

export function noToolOutputOption(): Option {
  return new Option('--no-tool-output', 'do not print tool outputs (short: -nt)');
}

/** Parses `-i/--max-iter`, or throws a ConfigError. */
export function parseMaxIter(text: string | undefined): number {
  if (text === undefined) return DEFAULT_MAX_ITER;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1 || value > 1000) {
    throw new ConfigError(
      `--max-iter ${JSON.stringify(text)} is not valid: expected a whole number from 1 to 1000`,
    );
  }
  return value;
}
