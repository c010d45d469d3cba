import { readFileSync, statSync } from 'node:fs';
import type { Document } from 'yaml';
import { ConfigError, errorMessage } from '../errors/opsmate-error.js';
import type { ConfigSectionDefinition } from './config-section-definition.js';
import { CONFIG_SECTIONS } from './config-sections.js';
import { yamlModule } from './yaml-module.js';

/** A section's name, as registered in `CONFIG_SECTIONS` (`models`, `policy`). */
export type ConfigSectionName = string;

/** Where something was written: the file and the 1-based line. */
export interface ConfigLocation {
  path: string;
  line: number;
}

/** One top-level `NAME: value` of the config file, NAME being an env var name (`OPSMATE_MODEL`). */
export interface ConfigFileValue extends ConfigLocation {
  key: string;
  /** As YAML gave it: text, number, boolean, null, a list or a mapping. */
  value: unknown;
}

/** One of the registered sections (`CONFIG_SECTIONS`), with the lines of what it holds. */
export interface ConfigSection extends ConfigLocation {
  name: ConfigSectionName;
  /** The key it is written under: its name or an alias (`OPSMATE_MODELS_CONFIG`). */
  key: string;
  /** The section's value as YAML gave it (plain objects, arrays and scalars). */
  value: unknown;
  /**
   * The line of a value inside the section by its key path (`['db-1', 'host']`, list items by
   * index); the nearest enclosing line that exists when the path goes further than the file.
   */
  lineOf(keyPath: readonly (string | number)[]): number;
}

/** A parsed config file. Built by {@link readConfigFile}; nothing here touches the environment. */
export interface ConfigFile {
  path: string;
  /** Permission bits of the file (`0o600`...). */
  mode: number;
  /** Top-level keys that are not sections, by name. */
  values: ReadonlyMap<string, ConfigFileValue>;
  sections: ReadonlyMap<ConfigSectionName, ConfigSection>;
  /** The section definitions the file was read with (the registered ones, unless a test chose). */
  definitions: readonly ConfigSectionDefinition[];
  /** Every top-level key in file order, for the unknown-key check. */
  keys: ReadonlyArray<{ key: string; line: number }>;
}

/** `FILE:LINE`, the way config errors and `opsmate config show` name a place. */
export function formatLocation(location: ConfigLocation): string {
  return `${location.path}:${location.line}`;
}

/**
 * Reads and parses a config file. Throws a ConfigError naming the file (and the line, for YAML
 * errors) when it cannot be read or is not a YAML mapping.
 */
export function readConfigFile(
  path: string,
  sections: readonly ConfigSectionDefinition[] = CONFIG_SECTIONS,
): ConfigFile {
  let text: string;
  let mode: number;
  try {
    text = readFileSync(path, 'utf8');
    mode = statSync(path).mode & 0o777;
  } catch (error) {
    throw new ConfigError(`cannot read the config file ${path}: ${errorMessage(error)}`, {
      hint: 'fix its permissions, or choose another file with --config (env OPSMATE_CONFIG)',
    });
  }
  return parseConfigText({ path, text, mode, sections });
}

/**
 * Parses config text; `path` and `mode` are only reported. `sections` are the definitions that
 * tell a section from an env var name (the registered ones by default). Exposed for tests.
 */
export function parseConfigText(options: {
  path: string;
  text: string;
  mode?: number;
  sections?: readonly ConfigSectionDefinition[];
}): ConfigFile {
  const { path } = options;
  const definitions = options.sections ?? CONFIG_SECTIONS;
  const { LineCounter, parseDocument } = yamlModule();
  const lineCounter = new LineCounter();
  const document = parseDocument(options.text, { lineCounter, prettyErrors: false });
  const problem = document.errors[0];
  if (problem) {
    const line = lineCounter.linePos(problem.pos[0]).line;
    throw new ConfigError(`${path}:${line}: not valid YAML: ${firstLine(problem.message)}`, {
      hint: `fix line ${line} of ${path}`,
    });
  }
  const lineAt = (offset: number | undefined): number =>
    offset === undefined ? 1 : lineCounter.linePos(offset).line;
  const values = new Map<string, ConfigFileValue>();
  const sections = new Map<ConfigSectionName, ConfigSection>();
  const keys: Array<{ key: string; line: number }> = [];
  const root = document.contents;
  if (root !== null && !yamlModule().isMap(root)) {
    throw new ConfigError(
      `${path}:${lineAt(root.range?.[0])}: the config file must be a mapping of NAME: value`,
      {
        hint: 'e.g. OPSMATE_MODEL: gpt-4o on its own line; see docs/configuration.md',
      },
    );
  }
  for (const pair of root?.items ?? []) {
    const keyNode = pair.key;
    const line = lineAt(yamlModule().isScalar(keyNode) ? keyNode.range?.[0] : undefined);
    if (!yamlModule().isScalar(keyNode) || typeof keyNode.value !== 'string') {
      throw new ConfigError(`${path}:${line}: a key of the config file must be a plain name`, {
        hint: `fix line ${line} of ${path}`,
      });
    }
    const key = keyNode.value;
    keys.push({ key, line });
    const value: unknown = pair.value === null ? null : (pair.value as { toJSON(): unknown }).toJSON();
    const definition = definitions.find(
      (candidate) => candidate.name === key || (candidate.aliases ?? []).includes(key),
    );
    const sectionName = definition?.name;
    if (sectionName !== undefined) {
      const earlier = sections.get(sectionName);
      if (earlier) {
        throw new ConfigError(
          `${path}:${line}: ${key} gives the ${sectionName} section a second time (line ${earlier.line}: ${earlier.key})`,
          { hint: `merge the two into one ${sectionName}: section` },
        );
      }
      sections.set(sectionName, makeSection({ name: sectionName, key, path, line, value, document, lineAt }));
      continue;
    }
    values.set(key, { key, value, path, line });
  }
  return { path, mode: options.mode ?? 0o600, values, sections, definitions, keys };
}

function makeSection(options: {
  name: ConfigSectionName;
  key: string;
  path: string;
  line: number;
  value: unknown;
  document: Document;
  lineAt: (offset: number | undefined) => number;
}): ConfigSection {
  const { document, key, lineAt } = options;
  return {
    name: options.name,
    key,
    path: options.path,
    line: options.line,
    value: options.value,
    lineOf: (keyPath) => {
      // The deepest node of the path that exists: a missing field is reported at its parent.
      for (let length = keyPath.length; length > 0; length--) {
        const node = document.getIn([key, ...keyPath.slice(0, length)], true) as
          { range?: [number, number, number] } | undefined;
        if (node && typeof node === 'object' && node.range) {
          // A mapping's key line reads better than its value's first line.
          const parent = document.getIn([key, ...keyPath.slice(0, length - 1)], true);
          if (yamlModule().isMap(parent)) {
            const pair = parent.items.find(
              (item) => yamlModule().isScalar(item.key) && item.key.value === keyPath[length - 1],
            );
            if (pair && yamlModule().isScalar(pair.key)) return lineAt(pair.key.range?.[0]);
          }
          return lineAt(node.range[0]);
        }
      }
      return options.line;
    },
  };
}

function firstLine(text: string): string {
  return (text.split('\n')[0] ?? text).replace(/ at line \d+, column \d+:?$/, '').trim();
}
