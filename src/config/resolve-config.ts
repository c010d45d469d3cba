import { ConfigError } from '../errors/opsmate-error.js';
import { describeSchema, parseFieldText, type FieldSpec } from './schema-fields.js';

/** Names under which one field can be set. */
export interface FieldNames {
  /** Long flag without dashes, e.g. `runtime-ssh-key-file`. */
  flag: string;
  /** Env var, e.g. `RUNTIME_SSH_KEY_FILE`. */
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

export interface ResolveConfigOptions {
  /** A zod object schema (any copy of zod). */
  schema: unknown;
  naming: FieldNaming;
  /** Flag values given on the command line, by schema key; undefined when not given. */
  flags: Record<string, string | undefined>;
  env: NodeJS.ProcessEnv;
}

/**
 * Builds a config object with the precedence flag > env > default, then validates it with the
 * schema. Any bad value throws a ConfigError naming the flag and the env var to fix.
 */
export function resolveConfig<T>(options: ResolveConfigOptions): T {
  const specs = describeSchema(options.schema);
  const raw: Record<string, unknown> = {};
  for (const spec of specs) {
    const names = fieldNames(spec, options.naming);
    const flagText = options.flags[spec.key];
    const envText = options.env[names.env];
    const [text, from] =
      flagText !== undefined
        ? [flagText, `--${names.flag}`]
        : envText !== undefined
          ? [envText, names.env]
          : [];
    if (text === undefined) continue;
    if (envText !== undefined && flagText === undefined && envText === '' && spec.kind !== 'string') continue;
    try {
      raw[spec.key] = parseFieldText(spec, text);
    } catch (error) {
      throw new ConfigError(
        `${from} ${spec.secret ? '(value hidden)' : JSON.stringify(text)} is not valid: ${(error as Error).message}`,
        { hint: whereToFix(names) },
      );
    }
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
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const key = String(issue?.path[0] ?? '');
  const spec = specs.find((candidate) => candidate.key === key);
  if (!spec) throw new ConfigError(`invalid configuration: ${issue?.message ?? 'unknown problem'}`);
  const names = fieldNames(spec, options.naming);
  const missing = raw[key] === undefined;
  throw new ConfigError(
    missing
      ? `--${names.flag} is required`
      : // A bad key of a map says why in its own issue ("Invalid key in record" says nothing).
        `--${names.flag}: ${issue?.issues?.[0]?.message ?? issue?.message ?? 'invalid value'}`,
    { hint: whereToFix(names) },
  );
}

function whereToFix(names: FieldNames): string {
  return `set --${names.flag} or the env var ${names.env}`;
}
