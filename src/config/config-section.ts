import { ConfigError } from '../errors/opsmate-error.js';
import type { ConfigSection } from './config-file.js';
import { isPlainObject } from './load-config.js';

/** One named entry of a section that maps names to settings (`mcpServers.<name>`, `targets.<name>`). */
export interface ConfigSectionEntry<T = unknown> {
  name: string;
  value: T;
  path: string;
  line: number;
}

interface SafeParser<T> {
  safeParse(
    value: unknown,
  ):
    | { success: true; data: T }
    | { success: false; error: { issues: Array<{ path: PropertyKey[]; message: string }> } };
}

/**
 * Validates a whole section with a zod schema (any copy of zod). A bad value throws one
 * ConfigError naming the file, the line of the offending value and its path in the section
 * (`config.yaml:12: targets.db-1.port: expected number`), with a hint to fix that line.
 */
export function parseSection<T>(section: ConfigSection, schema: SafeParser<T>): T {
  const parsed = schema.safeParse(section.value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const keyPath = (issue?.path ?? []).map((part) => (typeof part === 'number' ? part : String(part)));
  throw sectionError(section, keyPath, issue?.message ?? 'invalid value');
}

/**
 * The entries of a section that must be a mapping of names to mappings, each validated with
 * `schema`. The first bad one throws a ConfigError naming its file and line.
 */
export function sectionEntries<T>(section: ConfigSection, schema: SafeParser<T>): ConfigSectionEntry<T>[] {
  if (!isPlainObject(section.value)) {
    throw sectionError(section, [], `${section.name} must be a mapping of names to settings`);
  }
  return Object.entries(section.value).map(([name, value]) => {
    const parsed = schema.safeParse(value);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const keyPath = [
        name,
        ...(issue?.path ?? []).map((part) => (typeof part === 'number' ? part : String(part))),
      ];
      throw sectionError(section, keyPath, issue?.message ?? 'invalid value');
    }
    return { name, value: parsed.data, path: section.path, line: section.lineOf([name]) };
  });
}

/** A ConfigError for a value inside a section: `FILE:LINE: section.a.b: message`, hint to fix the line. */
export function sectionError(
  section: ConfigSection,
  keyPath: readonly (string | number)[],
  message: string,
): ConfigError {
  const line = section.lineOf(keyPath);
  const where = [section.name, ...keyPath].join('.');
  return new ConfigError(`${section.path}:${line}: ${where}: ${message}`, {
    hint: `fix line ${line} of ${section.path} (see docs/configuration.md)`,
  });
}
