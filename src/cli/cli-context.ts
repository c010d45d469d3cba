import type { InstalledPlugin } from '../plugins/plugin-loader.js';
import type { RuntimeRegistry } from '../runtime/runtime-registry.js';
import type { Logger } from './logger.js';

/** What every command gets: the runtimes it may use, a logger, and the streams to write to. */
export interface CliContext {
  registry: RuntimeRegistry;
  logger: Logger;
  env: NodeJS.ProcessEnv;
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  /** Problems met while loading plugins, one line each, for `list-runtimes` and `list-plugins`. */
  pluginProblems: string[];
  /** The installed plugins as loaded at start-up; unset when the command does not load them. */
  plugins?: readonly InstalledPlugin[];
}
