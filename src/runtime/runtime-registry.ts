import {
  checkFieldOptions,
  opsmateEnvNames,
  runtimeNaming,
  type GeneratedOption,
} from '../config/option-names.js';
import { ZOD_3_MESSAGE } from '../config/schema-fields.js';
import { ConfigError } from '../errors/opsmate-error.js';
import {
  RUNTIME_SPECIFICATION_VERSION,
  type RuntimeDefinition,
  type RuntimeDiscovery,
  type RuntimeUriForm,
} from './contract.js';

const RUNTIME_NAME = /^[a-z][a-z0-9]*$/;

/** Where a runtime definition came from, for `list-runtimes` and error messages. */
export interface RuntimeSource {
  kind: 'builtin' | 'plugin';
  /** npm package name for a plugin. */
  packageName?: string;
}

export interface RegisteredRuntime {
  definition: RuntimeDefinition;
  source: RuntimeSource;
  /** The `--runtime-<name>-*` options and env vars its fields become. */
  options: readonly GeneratedOption[];
}

/**
 * The runtimes opsmate knows in this process. The CLI builds one with the built-ins and the
 * installed plugins; a program embedding opsmate may build its own.
 */
export class RuntimeRegistry {
  readonly #runtimes = new Map<string, RegisteredRuntime>();

  /**
   * Adds a runtime kind. Throws a `ConfigError` when the definition is malformed or the name is
   * taken: a plugin may not replace a built-in.
   */
  register(definition: RuntimeDefinition, source: RuntimeSource = { kind: 'builtin' }): void {
    const problem = validateDefinition(definition);
    if (problem) throw new ConfigError(problem);
    const existing = this.#runtimes.get(definition.name);
    if (existing) {
      throw new ConfigError(`runtime name "${definition.name}" is already taken by ${ownerOf(existing)}`);
    }
    const checked = checkFieldOptions(definition.configSchema, runtimeNaming(definition.name));
    if ('problem' in checked) throw new ConfigError(checked.problem);
    for (const option of checked.options) {
      const setting = opsmateEnvNames().get(option.env);
      if (setting) {
        throw new ConfigError(
          `config field ${option.key} uses the env var ${option.env}, which is opsmate's own (${setting})`,
        );
      }
      for (const other of this.#runtimes.values()) {
        const clash = other.options.find((taken) => taken.env === option.env || taken.flag === option.flag);
        if (clash) {
          const what = clash.flag === option.flag ? `--${option.flag}` : `the env var ${option.env}`;
          throw new ConfigError(
            `config field ${option.key} would use ${what}, which runtime "${other.definition.name}" of ${ownerOf(other)} already uses`,
          );
        }
      }
    }
    for (const scheme of definition.uri?.schemes ?? []) {
      const owner = this.byScheme(scheme);
      if (owner) {
        throw new ConfigError(
          `runtime "${definition.name}" claims the URI scheme ${scheme}://, which runtime "${owner.definition.name}" of ${ownerOf(owner)} already has`,
        );
      }
    }
    this.#runtimes.set(definition.name, { definition, source, options: checked.options });
  }

  get(name: string): RegisteredRuntime | undefined {
    return this.#runtimes.get(name);
  }

  /** Like `get`, but throws a `ConfigError` listing the known names. */
  require(name: string): RegisteredRuntime {
    const found = this.#runtimes.get(name);
    if (found) return found;
    throw new ConfigError(`unknown runtime "${name}"`, {
      hint: `choose one of: ${this.names().join(', ')} (see \`opsmate list-runtimes\`)`,
    });
  }

  /** The runtime whose `uri` form answers to `scheme` (`ssh`, `compose`), if one does. */
  byScheme(scheme: string): RegisteredRuntime | undefined {
    return [...this.#runtimes.values()].find((entry) => entry.definition.uri?.schemes.includes(scheme));
  }

  names(): string[] {
    return [...this.#runtimes.keys()];
  }

  list(): RegisteredRuntime[] {
    return [...this.#runtimes.values()];
  }
}

function ownerOf(runtime: RegisteredRuntime): string {
  return runtime.source.kind === 'builtin' ? 'a built-in runtime' : `plugin ${runtime.source.packageName}`;
}

/**
 * Returns what is wrong with a definition that came from untrusted code, or undefined. Checks the
 * shape and the config schema (zod 4, field-key rules, no two fields on one option); a clash with
 * other runtimes' options is checked by {@link RuntimeRegistry.register}.
 */
const URI_SCHEME = /^[a-z][a-z0-9+.-]*$/;

function uriFormProblem(uri: unknown): string | undefined {
  const form = uri as Partial<RuntimeUriForm> | null;
  if (typeof form !== 'object' || form === null) return 'must be an object';
  if (!Array.isArray(form.schemes) || form.schemes.length === 0) return 'needs schemes, a list of names';
  const bad = form.schemes.find((scheme) => typeof scheme !== 'string' || !URI_SCHEME.test(scheme));
  if (bad !== undefined) return `scheme ${JSON.stringify(bad)} must match ${URI_SCHEME.source}`;
  if (!Array.isArray(form.usage) || !form.usage.every((line) => typeof line === 'string'))
    return 'needs usage, a list of forms such as ssh://[user@]host[:port]';
  if (typeof form.fields !== 'function') return 'needs fields(uri)';
  return undefined;
}

export function validateDefinition(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return 'a runtime definition must be an object';
  const definition = value as Partial<RuntimeDefinition>;
  if (definition.specificationVersion !== RUNTIME_SPECIFICATION_VERSION) {
    return `runtime definition has specificationVersion ${JSON.stringify(definition.specificationVersion)}, expected "${RUNTIME_SPECIFICATION_VERSION}" (build it with defineRuntime())`;
  }
  if (typeof definition.name !== 'string' || !RUNTIME_NAME.test(definition.name)) {
    return `runtime name ${JSON.stringify(definition.name)} must match ${RUNTIME_NAME.source}`;
  }
  if (typeof definition.description !== 'string' || definition.description.trim() === '') {
    return `runtime "${definition.name}" has no description`;
  }
  const schema = definition.configSchema as unknown as
    { shape?: unknown; safeParse?: unknown; _def?: unknown; _zod?: unknown } | undefined;
  if (schema && schema._def !== undefined && schema._zod === undefined) {
    return `runtime "${definition.name}": its configSchema ${ZOD_3_MESSAGE}`;
  }
  if (!schema || typeof schema.shape !== 'object' || typeof schema.safeParse !== 'function') {
    return `runtime "${definition.name}" has no configSchema (a zod object)`;
  }
  if (typeof definition.create !== 'function') return `runtime "${definition.name}" has no create()`;
  const uriProblem = definition.uri === undefined ? undefined : uriFormProblem(definition.uri);
  if (uriProblem) return `runtime "${definition.name}": uri ${uriProblem}`;
  const discover = definition.discover as Partial<RuntimeDiscovery> | undefined | null;
  if (discover !== undefined) {
    if (typeof discover !== 'object' || discover === null || typeof discover.find !== 'function')
      return `runtime "${definition.name}": discover needs find(options)`;
    if (typeof discover.usage !== 'string' || discover.usage.trim() === '')
      return `runtime "${definition.name}": discover needs usage, one line saying what a selector is`;
  }
  const checked = checkFieldOptions(definition.configSchema, runtimeNaming(definition.name));
  if ('problem' in checked) return checked.problem;
  return undefined;
}
