import type { LoadedConfig } from '../config/load-config.js';
import type { ExtensionRegistries, InstalledPlugin } from '../plugins/plugin-loader.js';
import type { RuntimeRegistry } from '../runtime/runtime-registry.js';
import type { Logger } from './logger.js';

/**
 * What every command gets: the runtimes, tools, contexts and model providers it may use (the
 * built-ins plus what it needed from plugins), a logger, and the streams to write to.
 */
export interface CliContext extends ExtensionRegistries {
  /** The same registry as `runtimes`. */
  registry: RuntimeRegistry;
  logger: Logger;
  /** opsmate's own environment, as the process got it. */
  env: NodeJS.ProcessEnv;
  /**
   * The config file (`--config`, `OPSMATE_CONFIG`, `<home>/config.yaml`), below the environment.
   * Settings and runtime fields read it through `readSettings`/`resolveRuntimeConfig`; code that
   * reads env vars by name (model providers, masking) reads `config.env`.
   */
  config: LoadedConfig;
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  /** Problems met while loading plugins, one line each, for `list-runtimes` and `list-plugins`. */
  pluginProblems: string[];
  /**
   * The runtime whose `--runtime-<name>-*` options help shows: the chosen one (flag, env, config
   * file); undefined with `--help-all`, for all of them.
   */
  helpRuntime?: string;
  /** The installed plugins as read at start-up; unset when the command does not use them. */
  plugins?: readonly InstalledPlugin[];
}
