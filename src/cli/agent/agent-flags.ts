import { Option, type Command } from 'commander';
import { ConfigError } from '../../errors/opsmate-error.js';
import type { CliContext } from '../cli-context.js';
import { addRuntimeOptions, addSettingOptions, RUNTIME_COMMAND_SETTINGS } from '../field-options.js';

/**
 * Opsmate's two-letter short flags. commander accepts only one letter after a single dash, so
 * these are rewritten to their long forms before parsing.
 */
export const MULTI_LETTER_FLAGS: Readonly<Record<string, string>> = {
  '-nt': '--no-tool-output',
  '-no': '--no-observation',
};

/** Rewrites `-nt`/`-no` to long flags, leaving everything after `--` alone. */
export function expandMultiLetterFlags(argv: readonly string[]): string[] {
  const end = argv.indexOf('--');
  return argv.map((arg, index) => (end >= 0 && index > end ? arg : (MULTI_LETTER_FLAGS[arg] ?? arg)));
}

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
