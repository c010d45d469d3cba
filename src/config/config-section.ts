import { ConfigError } from '../errors/opsmate-error.js';
import type { ConfigSection } from './config-file.js';
import { didYouMean } from './did-you-mean.js';
import { isPlainObject } from './load-config.js';

/** One named entry of a section that maps names to settings (`mcpServers.<name>`, `targets.<name>`). */
export interface ConfigSectionEntry<T = unknown> {
  name: string;
  value: T;
  path: string;
  line: number;
}

/** One problem zod (any copy) reports; `keys` for an unknown key of a strict object. */
interface SectionIssue {
  path: PropertyKey[];
  message: string;
  code?: string;
  keys?: string[];
}

/**
 * A zod schema, or anything that parses like one. `knownKeys` names the keys allowed at a path,
 * for the did-you-mean of an unknown key; for a zod schema they are read from the schema itself.
 */
interface SafeParser<T> {
  safeParse(
    value: unknown,
  ): { success: true; data: T } | { success: false; error: { issues: SectionIssue[] } };
  knownKeys?(path: readonly PropertyKey[]): string[];
}

/**
 * Validates a whole section with a zod schema (any copy of zod). A bad value throws one
 * ConfigError naming the file, the line of the offending value and its path in the section
 * (`config.yaml:12: targets.db-1.port: expected number`), with a hint to fix that line.
 */
export function parseSection<T>(section: ConfigSection, schema: SafeParser<T>): T {
  const parsed = schema.safeParse(section.value);
  if (parsed.success) return parsed.data;
  throw issueError(section, schema, [], parsed.error.issues);
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
    if (!parsed.success) throw issueError(section, schema, [name], parsed.error.issues);
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

/**
 * The ConfigError for one of zod's issues: an unknown key first (a misspelt key also makes the
 * key it meant missing, and the typo is what to fix), named with the closest allowed key.
 */
function issueError(
  section: ConfigSection,
  schema: SafeParser<unknown>,
  prefix: readonly string[],
  issues: readonly SectionIssue[],
): ConfigError {
  const issue = issues.find((candidate) => candidate.code === 'unrecognized_keys') ?? issues[0];
  const issuePath = (issue?.path ?? []).map((part) => (typeof part === 'number' ? part : String(part)));
  const unknown = issue?.code === 'unrecognized_keys' ? issue.keys?.[0] : undefined;
  if (unknown === undefined) {
    return sectionError(section, [...prefix, ...issuePath], issue?.message ?? 'invalid value');
  }
  const allowed = schema.knownKeys ? schema.knownKeys(issuePath) : zodKeysAt(schema, issuePath);
  const guess = didYouMean(unknown, allowed);
  const line = section.lineOf([...prefix, ...issuePath, unknown]);
  const where = [section.name, ...prefix, ...issuePath].join('.');
  return new ConfigError(`${section.path}:${line}: ${where}: unknown key ${unknown}`, {
    hint: guess
      ? `did you mean ${guess}? Fix line ${line} of ${section.path}`
      : `fix line ${line} of ${section.path}${allowed.length > 0 ? `: ${where} takes ${allowed.join(', ')}` : ''}`,
  });
}

interface ZodDefinition {
  type?: string;
  shape?: Record<string, { _zod?: { def?: ZodDefinition } }>;
  valueType?: { _zod?: { def?: ZodDefinition } };
  element?: { _zod?: { def?: ZodDefinition } };
  innerType?: { _zod?: { def?: ZodDefinition } };
  in?: { _zod?: { def?: ZodDefinition } };
  options?: Array<{ _zod?: { def?: ZodDefinition } }>;
}

/**
 * The keys a zod object schema allows at `path` (duck-typed on `_zod.def`, so a plugin's own copy
 * of zod works too): wrappers (optional, default, pipe) are looked through, records and arrays
 * step over one key, unions give every option's keys.
 */
export function zodKeysAt(schema: unknown, path: readonly (string | number)[]): string[] {
  const definitionOf = (node: unknown): ZodDefinition | undefined =>
    (node as { _zod?: { def?: ZodDefinition } } | undefined)?._zod?.def;
  const unwrap = (node: unknown): ZodDefinition[] => {
    const definition = definitionOf(node);
    if (!definition) return [];
    if (definition.innerType) return unwrap(definition.innerType);
    if (definition.type === 'pipe' && definition.in) return unwrap(definition.in);
    if (definition.type === 'union' && definition.options) return definition.options.flatMap(unwrap);
    return [definition];
  };
  let nodes = unwrap(schema);
  for (const part of path) {
    nodes = nodes.flatMap((definition) => {
      if (definition.type === 'object' && typeof part === 'string') return unwrap(definition.shape?.[part]);
      if (definition.type === 'record') return unwrap(definition.valueType);
      if (definition.type === 'array') return unwrap(definition.element);
      return [];
    });
  }
  return [...new Set(nodes.flatMap((definition) => Object.keys(definition.shape ?? {})))];
}
