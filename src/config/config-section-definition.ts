import type { ConfigSection } from './config-file.js';

/** One row of `opsmate config show` for an entry of a section. */
export interface ConfigSectionRow {
  /** Shown as `<section>.<name>`: `models.o3`, `targets.db-1`. */
  name: string;
  /** A short, secret-free summary of the entry. */
  value: string;
  /** Where in the section it is written, for its line (`['o3']`). */
  keyPath: readonly (string | number)[];
}

/**
 * A section of the config file that is not an env var name (`models:`, `policy:`), owned by the
 * feature that uses it. Register one by adding it to `CONFIG_SECTIONS` in
 * `src/config/config-sections.ts` (one line); see docs/configuration.md.
 */
export interface ConfigSectionDefinition<T = unknown> {
  /** The top-level key (`targets`). Sections are named in camelCase, unlike env var names. */
  name: string;
  /** Other top-level keys that mean the same section (Python Opsmate's `OPSMATE_MODELS_CONFIG`). */
  aliases?: readonly string[];
  /** One line for `config show` and errors: what the section holds. */
  description: string;
  /**
   * Validates the section and returns what its owner uses. Called once per command, before
   * anything connects, for every section present in the file: a bad value throws a ConfigError
   * naming the file and line (use `parseSection` or `sectionEntries` from config-section.ts, which
   * do that, and add did-you-mean for unknown keys of a strict zod object).
   */
  read(section: ConfigSection): T;
  /**
   * Settings that may be written in the section rather than as their env var name, by key:
   * `{ profile: 'OPSMATE_POLICY_PROFILE' }` makes `policy: { profile: x }` mean
   * `OPSMATE_POLICY_PROFILE: x` (below the env var and the flag, as any file value).
   */
  settings?: Readonly<Record<string, string>>;
  /** Rows for `config show`; by default one per entry of a mapping, with a generic summary. */
  rows?(value: T, section: ConfigSection): ConfigSectionRow[];
}

/** Identity helper for type inference: `export const targetsSection = defineConfigSection({...})`. */
export function defineConfigSection<T>(definition: ConfigSectionDefinition<T>): ConfigSectionDefinition<T> {
  return definition;
}
