import { Option, type Command } from 'commander';
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
    ...RUNTIME_COMMAND_SETTINGS,
  ]);
  command.addOption(
    new Option('-r, --review', 'show each command first and let you run it, edit it or cancel it'),
  );
  addRuntimeOptions(command, context.registry);
  return command;
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
