import { ConfigError } from '../errors/opsmate-error.js';
import { RUNTIME_SPECIFICATION_VERSION, type RuntimeDefinition } from './contract.js';

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
      const owner =
        existing.source.kind === 'builtin' ? 'a built-in runtime' : `plugin ${existing.source.packageName}`;
      throw new ConfigError(`runtime name "${definition.name}" is already taken by ${owner}`);
    }
    this.#runtimes.set(definition.name, { definition, source });
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

  names(): string[] {
    return [...this.#runtimes.keys()];
  }

  list(): RegisteredRuntime[] {
    return [...this.#runtimes.values()];
  }
}

/** Returns what is wrong with a definition that came from untrusted code, or undefined. */
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
  const schema = definition.configSchema as unknown as { shape?: unknown; safeParse?: unknown } | undefined;
  if (!schema || typeof schema.shape !== 'object' || typeof schema.safeParse !== 'function') {
    return `runtime "${definition.name}" has no configSchema (a zod object)`;
  }
  if (typeof definition.create !== 'function') return `runtime "${definition.name}" has no create()`;
  return undefined;
}
