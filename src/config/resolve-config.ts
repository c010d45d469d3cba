import { ConfigError } from '../errors/opsmate-error.js';
import type { ConfigFileEntry, ConfigFileLayer } from './load-config.js';
import { describeSchema, parseFieldText, type FieldSpec } from './schema-fields.js';

/** Names under which one field can be set. */
export interface FieldNames {
  /** Long flag without dashes, e.g. `runtime-ssh-key-file`. */
  flag: string;
  /** Env var, e.g. `RUNTIME_SSH_KEY_FILE`; also its key in the config file. */
  env: string;
}

/** Naming rule of a group of fields: `--<flagPrefix><field>` and `<ENVPREFIX><FIELD>`. */
export interface FieldNaming {
  flagPrefix: string;
  envPrefix: string;
}

export function fieldNames(spec: FieldSpec, naming: FieldNaming): FieldNames {
  return {
    flag: `${naming.flagPrefix}${spec.kebab}`,
    env: spec.env ?? `${naming.envPrefix}${spec.kebab.replaceAll('-', '_').toUpperCase()}`,
  };
}

/** Where an effective value came from. */
export type ValueSource =
  | { kind: 'flag'; flag: string }
  | { kind: 'env'; name: string }
  | { kind: 'file'; path: string; line: number; writtenAs?: string }
  | { kind: 'default' };

/** `flag --model`, `env OPSMATE_MODEL`, `/home/me/.opsmate/config.yaml:3`, `default`. */
export function describeSource(source: ValueSource): string {
  switch (source.kind) {
    case 'flag':
      return `flag --${source.flag}`;
    case 'env':
      return `env ${source.name}`;
    case 'file':
      return `${at(source.path, source.line)}${source.writtenAs ? ` (${source.writtenAs})` : ''}`;
    case 'default':
      return 'default';
  }
}

export interface ResolveConfigOptions {
  /** A zod object schema (any copy of zod). */
  schema: unknown;
  naming: FieldNaming;
  /** Flag values given on the command line, by schema key; undefined when not given. */
  flags: Record<string, string | undefined>;
  env: NodeJS.ProcessEnv;
  /** The config file's values by env var name, below the environment. */
  file?: ConfigFileLayer | undefined;
  /**
   * A named target's fields (`targets.web-1.host`, or a URI's), by env var name: below the flags,
   * above the environment. An entry with line 0 comes from no file (a URI): `path` names it.
   */
  target?: ConfigFileLayer | undefined;
}

function fileSource(entry: ConfigFileEntry): ValueSource {
  return {
    kind: 'file',
    path: entry.path,
    line: entry.line,
    ...(entry.writtenAs ? { writtenAs: entry.writtenAs } : {}),
  };
}

/**
 * Builds a config object with the precedence flag > env > config file > default, then validates
 * it with the schema. Any bad value throws a ConfigError naming where it came from: the flag and
 * env var to fix, or the config file and line.
 */
export function resolveConfig<T>(options: ResolveConfigOptions): T {
  return resolveConfigSources<T>(options).config;
}

/** {@link resolveConfig}, and where each field's value came from (by schema key). */
export function resolveConfigSources<T>(options: ResolveConfigOptions): {
  config: T;
  sources: Record<string, ValueSource>;
} {
  const specs = describeSchema(options.schema);
  const raw: Record<string, unknown> = {};
  const sources: Record<string, ValueSource> = {};
  for (const spec of specs) {
    const names = fieldNames(spec, options.naming);
    const flagText = options.flags[spec.key];
    if (flagText !== undefined) {
      raw[spec.key] = parseText(spec, flagText, `--${names.flag}`, whereToFix(names));
      sources[spec.key] = { kind: 'flag', flag: names.flag };
      continue;
    }
    const targetEntry = options.target?.lookup(names.env);
    if (targetEntry !== undefined) {
      const value = fileValue(spec, targetEntry, names);
      if (value !== undefined) {
        raw[spec.key] = value;
        sources[spec.key] = fileSource(targetEntry);
        continue;
      }
    }
    const envText = options.env[names.env];
    // An empty env var of a non-text field means "not set", as shells unset by emptying.
    if (envText !== undefined && !(envText === '' && spec.kind !== 'string')) {
      raw[spec.key] = parseText(spec, envText, names.env, whereToFix(names));
      sources[spec.key] = { kind: 'env', name: names.env };
      continue;
    }
    const entry = options.file?.lookup(names.env);
    if (entry !== undefined) {
      const value = fileValue(spec, entry, names);
      if (value !== undefined) {
        raw[spec.key] = value;
        sources[spec.key] = fileSource(entry);
        continue;
      }
    }
    sources[spec.key] = { kind: 'default' };
  }
  const schema = options.schema as {
    safeParse: (value: unknown) =>
      | { success: true; data: T }
      | {
          success: false;
          error: {
            issues: Array<{ path: PropertyKey[]; message: string; issues?: Array<{ message: string }> }>;
          };
        };
  };
  const parsed = schema.safeParse(raw);
  if (parsed.success) return { config: parsed.data, sources };
  const issue = parsed.error.issues[0];
  const key = String(issue?.path[0] ?? '');
  const spec = specs.find((candidate) => candidate.key === key);
  if (!spec) throw new ConfigError(`invalid configuration: ${issue?.message ?? 'unknown problem'}`);
  const names = fieldNames(spec, options.naming);
  // A bad key of a map says why in its own issue ("Invalid key in record" says nothing).
  const why = issue?.issues?.[0]?.message ?? issue?.message ?? 'invalid value';
  const source = sources[key];
  if (source?.kind === 'file') {
    throw new ConfigError(`${at(source.path, source.line)}: ${source.writtenAs ?? names.env}: ${why}`, {
      hint: fileHint(source.path, source.line, names),
    });
  }
  const missing = raw[key] === undefined;
  throw new ConfigError(missing ? `--${names.flag} is required` : `--${names.flag}: ${why}`, {
    hint: whereToFix(names),
  });
}

function parseText(spec: FieldSpec, text: string, from: string, hint: string): unknown {
  try {
    return parseFieldText(spec, text);
  } catch (error) {
    throw new ConfigError(
      `${from} ${spec.secret ? '(value hidden)' : JSON.stringify(text)} is not valid: ${(error as Error).message}`,
      { hint },
    );
  }
}

/**
 * A config file value as the field's type. YAML already typed it: numbers, booleans, lists and
 * mappings are taken as they are (after checking), text is read like an env var. Null (`NAME:`
 * with nothing after it) counts as not set.
 */
function fileValue(spec: FieldSpec, entry: ConfigFileEntry, names: FieldNames): unknown {
  const { value } = entry;
  const where = `${at(entry.path, entry.line)}: ${entry.writtenAs ?? names.env}`;
  const hint = fileHint(entry.path, entry.line, names);
  const bad = (why: string): ConfigError =>
    new ConfigError(
      `${where} ${spec.secret ? '(value hidden)' : JSON.stringify(value)} is not valid: ${why}`,
      { hint },
    );
  if (value === null || value === undefined) return undefined;
  if (Array.isArray(value)) {
    if (spec.kind !== 'list') throw bad(`expected ${expected(spec)}, not a list`);
    if (!value.every(isScalar)) throw bad('expected a list of plain values');
    return value.map(String);
  }
  if (typeof value === 'object') {
    if (spec.kind !== 'map') throw bad(`expected ${expected(spec)}, not a mapping`);
    const entries = Object.entries(value as Record<string, unknown>);
    if (!entries.every(([, item]) => isScalar(item))) throw bad('expected NAME: value pairs of plain values');
    return Object.fromEntries(entries.map(([name, item]) => [name, String(item)]));
  }
  if (typeof value === 'boolean' && spec.kind === 'boolean') return value;
  if (typeof value === 'number' && (spec.kind === 'number' || spec.kind === 'integer')) {
    if (spec.kind === 'integer' && !Number.isInteger(value)) throw bad('expected a whole number');
    return value;
  }
  const text = String(value);
  if (text === '' && spec.kind !== 'string') return undefined;
  try {
    return parseFieldText(spec, text);
  } catch (error) {
    throw bad((error as Error).message);
  }
}

function isScalar(value: unknown): boolean {
  return ['string', 'number', 'boolean'].includes(typeof value);
}

function expected(spec: FieldSpec): string {
  switch (spec.kind) {
    case 'boolean':
      return 'true or false';
    case 'integer':
      return 'a whole number';
    case 'number':
      return 'a number';
    case 'enum':
      return `one of ${spec.choices?.join(', ')}`;
    case 'list':
      return 'a list';
    case 'map':
      return 'NAME: value pairs';
    case 'string':
      return 'text';
  }
}

function whereToFix(names: FieldNames): string {
  return `set --${names.flag} or the env var ${names.env}`;
}

/** `FILE:LINE`, or what the value came from when it is no file's line (a target URI). */
function at(path: string, line: number): string {
  return line > 0 ? `${path}:${line}` : path;
}

function fileHint(path: string, line: number, names: FieldNames): string {
  if (line <= 0) return `fix ${path}, or override it with --${names.flag}`;
  return `fix line ${line} of ${path}, or override it with --${names.flag} or the env var ${names.env}`;
}
