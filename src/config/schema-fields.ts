import { z } from 'zod';

/**
 * A `k=v,k2=v2` map field. Flags and env vars give it as text; config objects may give an object.
 * A comma or backslash inside a value is written `\,` or `\\` (`A=x\,y` is `{ A: 'x,y' }`).
 * Defaults to `{}`; `stringMap().default({ k: 'v' })` sets another default.
 */
export function stringMap() {
  return z.record(z.string(), z.string()).default({});
}

/** Names a shell accepts for a variable: letters, digits and _, not starting with a digit. */
export const ENV_VAR_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * A `NAME=value,...` map of environment variables: like {@link stringMap}, but a name a shell
 * cannot export (`A-B`, `1X`, `a b`) is a configuration error naming the flag and env var.
 */
export function envVarMap() {
  return z
    .record(
      z.string().regex(ENV_VAR_NAME, {
        error: (issue) =>
          `${JSON.stringify(issue.input)} is not an environment variable name (letters, digits and _, not starting with a digit)`,
      }),
      z.string(),
    )
    .default({});
}

/** A comma-separated list field (`\,` for a comma inside an item). Defaults to `[]`. */
export function stringList() {
  return z.array(z.string()).default([]);
}

/** The kinds of value a config field may hold, as read from flags and env vars. */
export type FieldKind = 'string' | 'integer' | 'number' | 'boolean' | 'list' | 'map' | 'enum';

/** One field of a config schema, as the CLI sees it. */
export interface FieldSpec {
  /** Key in the schema, e.g. `keyFile`. */
  key: string;
  /** Key in kebab case, e.g. `key-file`. */
  kebab: string;
  kind: FieldKind;
  /** Allowed values for an enum. */
  choices?: string[];
  description?: string;
  /** The schema's default, when it has one. */
  defaultValue?: unknown;
  hasDefault: boolean;
  required: boolean;
  /** Marked `.meta({ secret: true })`: never shown, logged or echoed. */
  secret: boolean;
  /** `.meta({ env: 'NAME' })`: an env var name that replaces the derived one. */
  env?: string;
  /** `.meta({ short: 'm' })`: a one-letter flag alias. */
  short?: string;
}

interface ZodLike {
  _zod: { def: ZodDef };
  description?: string;
  meta?: () => Record<string, unknown> | undefined;
}

interface ZodDef {
  type: string;
  innerType?: ZodLike;
  in?: ZodLike;
  defaultValue?: unknown;
  entries?: Record<string, string | number>;
  checks?: Array<{ _zod?: { def?: { check?: string; format?: string } } }>;
  format?: string;
}

/**
 * Reads the fields of a zod object schema by duck typing its `_zod.def`, so a schema built with a
 * plugin's own copy of zod works too. Throws a TypeError naming a field whose type cannot be set
 * from a flag.
 */
export function describeSchema(schema: unknown): FieldSpec[] {
  if (isZod3(schema)) throw new TypeError(ZOD_3_MESSAGE);
  const shape = (schema as { shape?: Record<string, unknown> }).shape;
  if (!shape || typeof shape !== 'object') throw new TypeError('config schema is not a zod object');
  return Object.entries(shape).map(([key, field]) => {
    if (isZod3(field)) throw new TypeError(`config field ${key}: ${ZOD_3_MESSAGE}`);
    if (typeof field !== 'object' || field === null || !('_zod' in field)) {
      throw new TypeError(`config field ${key} is not a zod schema`);
    }
    return describeField(key, field as ZodLike);
  });
}

/** What a plugin author reads when a schema comes from zod 3, whose internals differ. */
export const ZOD_3_MESSAGE =
  "it was built with zod 3, and zod 4 is required: use the z that opsmate exports (import { z } from 'opsmate') or depend on zod@^4";

/** zod 3 schemas keep their definition in `_def` and have no `_zod`. */
function isZod3(value: unknown): boolean {
  return typeof value === 'object' && value !== null && '_def' in value && !('_zod' in value);
}

/**
 * Rules for the keys of a config schema, so that every key becomes one option a person can type:
 * camelCase or snake_case words of ASCII letters and digits, starting with a lower-case letter,
 * with single underscores between words (`keyFile`, `key_file`, `useIAP`; not `_x`, `a__b`,
 * `b_`, `a b`, `a.b`, `a-b`). Returns what is wrong with `key`, or undefined.
 */
export function fieldKeyProblem(key: string): string | undefined {
  if (FIELD_KEY.test(key)) return undefined;
  return `config field key ${JSON.stringify(key)} cannot become an option: keys are camelCase or snake_case (letters and digits, starting with a lower-case letter, single underscores between words; no leading, trailing or double underscores, spaces, dots or dashes)`;
}

export const FIELD_KEY = /^[a-z][a-zA-Z0-9]*(?:_[a-zA-Z0-9]+)*$/;

function describeField(key: string, field: ZodLike): FieldSpec {
  let node: ZodLike | undefined = field;
  let description: string | undefined;
  let secret = false;
  let hasDefault = false;
  let defaultValue: unknown;
  let optional = false;
  let env: string | undefined;
  let short: string | undefined;
  for (let depth = 0; node && depth < 10; depth++) {
    description ??= node.description;
    const meta = typeof node.meta === 'function' ? node.meta() : undefined;
    if (meta?.secret === true) secret = true;
    if (typeof meta?.env === 'string') env ??= meta.env;
    if (typeof meta?.short === 'string') short ??= meta.short;
    const def: ZodDef = node._zod.def;
    if (def.type === 'default' || def.type === 'prefault') {
      // The outermost default wins, as it does when zod parses: `stringList().default(['a'])`.
      if (!hasDefault) {
        defaultValue =
          typeof def.defaultValue === 'function' ? (def.defaultValue as () => unknown)() : def.defaultValue;
      }
      hasDefault = true;
      node = def.innerType;
    } else if (def.type === 'optional' || def.type === 'nullable' || def.type === 'nonoptional') {
      optional = optional || def.type !== 'nonoptional';
      node = def.innerType;
    } else if (def.type === 'pipe') {
      node = def.in;
    } else {
      break;
    }
  }
  if (!node?._zod) throw new TypeError(`config field ${key} has no type`);
  const def = node._zod.def;
  const base = {
    key,
    kebab: toKebab(key),
    ...(description ? { description } : {}),
    ...(hasDefault ? { defaultValue } : {}),
    hasDefault,
    required: !hasDefault && !optional,
    secret,
    ...(env ? { env } : {}),
    ...(short ? { short } : {}),
  };
  switch (def.type) {
    case 'string':
      return { ...base, kind: 'string' };
    case 'boolean':
      return { ...base, kind: 'boolean' };
    case 'number': {
      const integer =
        def.format === 'safeint' ||
        def.format === 'int32' ||
        (def.checks ?? []).some((check) => ['safeint', 'int32'].includes(check._zod?.def?.format ?? ''));
      return { ...base, kind: integer ? 'integer' : 'number' };
    }
    case 'enum':
      return { ...base, kind: 'enum', choices: Object.values(def.entries ?? {}).map(String) };
    case 'array':
      return { ...base, kind: 'list' };
    case 'record':
      return { ...base, kind: 'map' };
    default:
      throw new TypeError(`config field ${key} has type ${def.type}, which cannot be set from a flag`);
  }
}

/** `keyFile` → `key-file`, `extra_flags` → `extra-flags`. */
export function toKebab(key: string): string {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .replaceAll('_', '-')
    .toLowerCase();
}

const TRUE_WORDS = new Set(['true', '1', 'yes', 'y', 'on']);
const FALSE_WORDS = new Set(['false', '0', 'no', 'n', 'off']);

/**
 * Turns the text of a flag or env var into the field's type. Throws an Error whose message says
 * what was expected; the caller adds which flag and env var it came from.
 */
export function parseFieldText(spec: FieldSpec, text: string): unknown {
  switch (spec.kind) {
    case 'string':
      return text;
    case 'enum':
      if (!spec.choices?.includes(text)) throw new Error(`expected one of ${spec.choices?.join(', ')}`);
      return text;
    case 'boolean': {
      const word = text.trim().toLowerCase();
      if (TRUE_WORDS.has(word)) return true;
      if (FALSE_WORDS.has(word)) return false;
      throw new Error('expected true/false, 1/0 or yes/no');
    }
    case 'integer': {
      if (!/^[-+]?\d+$/.test(text.trim())) throw new Error('expected a whole number');
      return Number.parseInt(text.trim(), 10);
    }
    case 'number': {
      const value = Number(text.trim());
      if (text.trim() === '' || Number.isNaN(value)) throw new Error('expected a number');
      return value;
    }
    case 'list':
      return splitOnCommas(text)
        .map((item) => item.trim())
        .filter((item) => item !== '');
    case 'map': {
      const map: Record<string, string> = {};
      for (const pair of splitOnCommas(text)) {
        if (pair.trim() === '') continue;
        const equals = pair.indexOf('=');
        if (equals <= 0) {
          throw new Error(
            `expected k=v pairs separated by commas (\\, for a comma in a value), got "${pair}"`,
          );
        }
        map[pair.slice(0, equals).trim()] = pair.slice(equals + 1);
      }
      return map;
    }
  }
}

/** Splits on commas not escaped as `\,`; `\\` is a backslash. */
export function splitOnCommas(text: string): string[] {
  const items: string[] = [];
  let current = '';
  for (let index = 0; index < text.length; index++) {
    const char = text[index]!;
    const next = text[index + 1];
    if (char === '\\' && (next === ',' || next === '\\')) {
      current += next;
      index++;
    } else if (char === ',') {
      items.push(current);
      current = '';
    } else {
      current += char;
    }
  }
  items.push(current);
  return items;
}

/** Escapes commas and backslashes so {@link splitOnCommas} gives `item` back. */
function escapeItem(item: string): string {
  return item.replace(/[\\,]/g, (char) => `\\${char}`);
}

/** How a default shows in help: `""` for an empty string, `a,b` for a list, `k=v` for a map. */
export function formatDefault(spec: FieldSpec): string | undefined {
  if (!spec.hasDefault || spec.secret) return undefined;
  const value = spec.defaultValue;
  if (value === undefined) return undefined;
  if (Array.isArray(value)) return value.map((item) => escapeItem(String(item))).join(',') || '""';
  if (typeof value === 'object' && value !== null) {
    const pairs = Object.entries(value).map(([k, v]) => `${k}=${escapeItem(String(v))}`);
    return pairs.join(',') || '""';
  }
  if (value === '') return '""';
  return String(value);
}
