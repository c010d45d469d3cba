import { ConfigError } from '../errors/opsmate-error.js';

/** Where an extension came from, for the list commands and error messages. */
export interface ExtensionSource {
  kind: 'builtin' | 'plugin';
  /** npm package name for a plugin. */
  packageName?: string;
}

export interface RegisteredExtension<T> {
  definition: T;
  source: ExtensionSource;
}

export interface ExtensionRegistryOptions {
  /** `tool`, `context`, `provider`: for messages. */
  kind: string;
  /** The list command that shows them, e.g. `opsmate list-tools`. */
  listCommand: string;
  /** Tool names are matched ignoring case (`--tools shellcommand`). */
  ignoreCase?: boolean;
  /** What is wrong with a definition from untrusted code, or undefined. */
  validate: (value: unknown) => string | undefined;
}

/**
 * The tools, contexts or model providers opsmate knows in this process: the built-ins, then those
 * of the plugins a command needed. A plugin may not take a built-in's name or another plugin's.
 */
export class ExtensionRegistry<T extends { name: string }> {
  readonly #items = new Map<string, RegisteredExtension<T>>();
  readonly #options: ExtensionRegistryOptions;

  constructor(options: ExtensionRegistryOptions) {
    this.#options = options;
  }

  get kind(): string {
    return this.#options.kind;
  }

  /** Adds a definition; throws a ConfigError when it is malformed or its name is taken. */
  register(definition: T, source: ExtensionSource = { kind: 'builtin' }): void {
    const problem = this.#options.validate(definition);
    if (problem) throw new ConfigError(problem);
    const existing = this.#items.get(this.#key(definition.name));
    if (existing) {
      const owner =
        existing.source.kind === 'builtin'
          ? `a built-in ${this.#options.kind}`
          : `plugin ${existing.source.packageName}`;
      throw new ConfigError(`${this.#options.kind} name "${definition.name}" is already taken by ${owner}`);
    }
    this.#items.set(this.#key(definition.name), { definition, source });
  }

  get(name: string): RegisteredExtension<T> | undefined {
    return this.#items.get(this.#key(name));
  }

  /** Like `get`, but throws a ConfigError listing the known names. */
  require(name: string): RegisteredExtension<T> {
    const found = this.get(name);
    if (found) return found;
    throw new ConfigError(`unknown ${this.#options.kind} "${name}"`, {
      hint: `choose one of: ${this.names().join(', ')} (see \`${this.#options.listCommand}\`)`,
    });
  }

  names(): string[] {
    return this.list().map(({ definition }) => definition.name);
  }

  list(): RegisteredExtension<T>[] {
    return [...this.#items.values()];
  }

  #key(name: string): string {
    return this.#options.ignoreCase ? name.toLowerCase() : name;
  }
}

/** True when a zod schema is a zod 4 object (any copy of zod); a zod 3 one gets its own message. */
export function zodObjectProblem(schema: unknown, what: string): string | undefined {
  const value = schema as {
    _def?: unknown;
    _zod?: { def?: { type?: unknown } };
    shape?: unknown;
    safeParse?: unknown;
  };
  if (typeof value !== 'object' || value === null) return `${what} must be a zod object (z.object({ ... }))`;
  if (value._def !== undefined && value._zod === undefined) {
    return `${what} was built with zod 3, and zod 4 is required: use the z that opsmate exports (import { z } from 'opsmate') or depend on zod@^4`;
  }
  if (value._zod?.def?.type !== 'object' || typeof value.safeParse !== 'function') {
    return `${what} must be a zod object (z.object({ ... }))`;
  }
  return undefined;
}
