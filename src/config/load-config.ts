import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../errors/opsmate-error.js';
import type { ConfigFile, ConfigFileValue, ConfigSection, ConfigSectionName } from './config-file.js';
import type { ConfigSectionDefinition } from './config-section-definition.js';

/** The config file's name in opsmate's home. */
export const CONFIG_FILE_NAME = 'config.yaml';

/** A value the config file gives a setting, and where it is written. */
export interface ConfigFileEntry {
  /** The env var name it stands for (`OPSMATE_MODEL`), even when written in a section (`policy.profile`). */
  name: string;
  value: unknown;
  path: string;
  line: number;
  /** How it is written, when not as its env var name: `policy.profile`. */
  writtenAs?: string;
}

/** What `resolveConfig` reads below the environment: the config file's values by env var name. */
export interface ConfigFileLayer {
  lookup(name: string): ConfigFileEntry | undefined;
}

/**
 * The config file as every command sees it. Load it with {@link loadConfig}; `file` is undefined
 * when there is none (and then `yaml` was never imported).
 */
export interface LoadedConfig {
  /** Where the file is (or would be). */
  path: string;
  /** Chosen with `--config` or `OPSMATE_CONFIG` (then it must exist), rather than `<home>/config.yaml`. */
  explicit: boolean;
  file: ConfigFile | undefined;
  /**
   * opsmate's environment with the file's `NAME: value` entries under it (a variable set and not
   * empty in the environment wins). For code that reads env vars by name: model providers (API
   * keys, base URLs), secret masking. Never handed to a child process.
   */
  env: NodeJS.ProcessEnv;
  /** The file's values by env var name, for `resolveConfig`. */
  layer: ConfigFileLayer;
  /** A section of the file (`models`, `policy`...) as written, when present. */
  section(name: ConfigSectionName): ConfigSection | undefined;
  /**
   * A section validated and read by its definition (`definition.read`), once; undefined when the
   * file has no such section. Throws the definition's ConfigError for a bad value.
   */
  read<T>(definition: ConfigSectionDefinition<T>): T | undefined;
}

/**
 * Where the config file is: `--config FILE`, else `OPSMATE_CONFIG`, else `<home>/config.yaml` with
 * home from `--home`, else `OPSMATE_HOME`, else `~/.opsmate`.
 */
export function configFilePath(options: {
  flag?: string | undefined;
  home?: string | undefined;
  env: NodeJS.ProcessEnv;
}): { path: string; explicit: boolean } {
  const given = options.flag ?? nonEmpty(options.env.OPSMATE_CONFIG);
  if (given !== undefined) return { path: given, explicit: true };
  const home = options.home ?? nonEmpty(options.env.OPSMATE_HOME) ?? join(homedir(), '.opsmate');
  return { path: join(home, CONFIG_FILE_NAME), explicit: false };
}

/**
 * Finds and reads the config file. Costs one `existsSync` when there is none: the YAML parser is
 * loaded only for a file that exists. A file named by `--config`/`OPSMATE_CONFIG` must exist.
 */
export async function loadConfig(options: {
  flag?: string | undefined;
  home?: string | undefined;
  env: NodeJS.ProcessEnv;
}): Promise<LoadedConfig> {
  const { path, explicit } = configFilePath(options);
  if (!existsSync(path)) {
    if (explicit) {
      throw new ConfigError(`the config file ${path} does not exist`, {
        hint: `check the path given by ${options.flag !== undefined ? '--config' : 'OPSMATE_CONFIG'}, or create it (see docs/configuration.md)`,
      });
    }
    return configFrom({ path, explicit, file: undefined, env: options.env });
  }
  const { readConfigFile } = await import('./config-file.js');
  return configFrom({ path, explicit, file: readConfigFile(path), env: options.env });
}

/** A LoadedConfig from a parsed file (or none), over `env`. */
export function configFrom(options: {
  path: string;
  explicit: boolean;
  file: ConfigFile | undefined;
  env: NodeJS.ProcessEnv;
}): LoadedConfig {
  const { file } = options;
  const layer: ConfigFileLayer = {
    lookup: (name) => {
      const direct = file?.values.get(name);
      if (direct) return entryOf(direct);
      // A setting written inside a section that declares it (`policy: { profile: x }`).
      for (const definition of file?.definitions ?? []) {
        const key = Object.entries(definition.settings ?? {}).find(([, env]) => env === name)?.[0];
        const section = key !== undefined ? file?.sections.get(definition.name) : undefined;
        const body = section?.value;
        if (key === undefined || !section || !isPlainObject(body) || !(key in body)) continue;
        return {
          name,
          value: body[key],
          path: section.path,
          line: section.lineOf([key]),
          writtenAs: `${definition.name}.${key}`,
        };
      }
      return undefined;
    },
  };
  const read = new Map<string, unknown>();
  return {
    path: options.path,
    explicit: options.explicit,
    file,
    env: mergedEnv(options.env, file),
    layer,
    section: (name) => file?.sections.get(name),
    read: <T>(definition: ConfigSectionDefinition<T>): T | undefined => {
      const section = file?.sections.get(definition.name);
      if (!section) return undefined;
      if (!read.has(definition.name)) read.set(definition.name, definition.read(section));
      return read.get(definition.name) as T;
    },
  };
}

function entryOf(value: ConfigFileValue): ConfigFileEntry {
  return { name: value.key, value: value.value, path: value.path, line: value.line };
}

/** The file's scalar values under the environment; an empty env var counts as unset. */
function mergedEnv(env: NodeJS.ProcessEnv, file: ConfigFile | undefined): NodeJS.ProcessEnv {
  if (!file || file.values.size === 0) return env;
  const merged: NodeJS.ProcessEnv = { ...env };
  for (const { key, value } of file.values.values()) {
    if (nonEmpty(env[key]) !== undefined) continue;
    const text = scalarText(value);
    if (text !== undefined) merged[key] = text;
  }
  return merged;
}

/**
 * A YAML value as an env var would hold it: scalars as text, a list as `a,b`, a mapping as
 * `K=v,K2=w` (commas escaped); undefined for null and for nested values.
 */
export function scalarText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') {
    return String(value);
  }
  const escape = (text: string): string => text.replace(/[\\,]/g, (char) => `\\${char}`);
  if (Array.isArray(value)) {
    const items = value.map(plainText);
    return items.every((item) => item !== undefined)
      ? items.map((item) => escape(item!)).join(',')
      : undefined;
  }
  if (isPlainObject(value)) {
    const pairs = Object.entries(value).map(([name, item]) => [name, plainText(item)] as const);
    if (pairs.some(([, item]) => item === undefined)) return undefined;
    return pairs.map(([name, item]) => `${name}=${escape(item!)}`).join(',');
  }
  return undefined;
}

function plainText(value: unknown): string | undefined {
  return ['string', 'number', 'boolean'].includes(typeof value) ? String(value) : undefined;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function nonEmpty(value: string | undefined): string | undefined {
  return value !== undefined && value.trim() !== '' ? value : undefined;
}
