import type { Command } from 'commander';
import type { Settings } from '../config/settings.js';
import { spillDir } from '../config/settings.js';
import type { Runtime } from '../runtime/contract.js';
import { pruneSpillFiles } from '../runtime/spill-files.js';
import type { CliContext } from './cli-context.js';
import { resolveRuntimeConfig } from './field-options.js';

/**
 * Builds the runtime chosen by `--shell-command-runtime` from the command's flags and env.
 * Validates the whole config first; does not connect. `outputLimitBytes` replaces the
 * `--output-limit` setting, for commands whose limit is what the model may see.
 */
export function createRuntimeFromFlags(options: {
  command: Command;
  settings: Settings;
  context: CliContext;
  outputLimitBytes?: number;
}): Runtime {
  const { definition, config } = resolveRuntimeConfig({
    command: options.command,
    registry: options.context.registry,
    runtimeName: options.settings.shellCommandRuntime,
    env: options.context.env,
    warn: (message) => options.context.logger.warn(message),
  });
  const spillFolder = spillDir(options.settings);
  pruneSpillFiles(spillFolder);
  return definition.create(config as never, {
    spillDir: spillFolder,
    outputLimitBytes: options.outputLimitBytes ?? options.settings.outputLimit,
  });
}
