import { ExtensionRegistry } from '../extension-registry.js';
import { cliContext } from './cli-context.js';
import { cliLiteContext } from './cli-lite-context.js';
import { CONTEXT_SPECIFICATION_VERSION, type ContextDefinition } from './context-contract.js';
import { k8sContext } from './k8s-context.js';

/** Every context opsmate ships. A new context is a file beside these plus one line here. */
export const BUILTIN_CONTEXTS: readonly ContextDefinition[] = [cliContext, k8sContext, cliLiteContext];

const CONTEXT_NAME = /^[a-z][a-z0-9-]*$/;

export type ContextRegistry = ExtensionRegistry<ContextDefinition>;

export function createContextRegistry(): ContextRegistry {
  return new ExtensionRegistry<ContextDefinition>({
    kind: 'context',
    listCommand: 'opsmate list-contexts',
    validate: validateContextDefinition,
  });
}

export function builtinContextRegistry(): ContextRegistry {
  const registry = createContextRegistry();
  for (const context of BUILTIN_CONTEXTS) registry.register(context);
  return registry;
}

/** What is wrong with a context definition from untrusted code, or undefined. */
export function validateContextDefinition(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return 'a context definition must be an object';
  const context = value as Partial<Record<keyof ContextDefinition, unknown>>;
  if (context.specificationVersion !== CONTEXT_SPECIFICATION_VERSION) {
    return `context definition has specificationVersion ${JSON.stringify(context.specificationVersion)}, expected "${CONTEXT_SPECIFICATION_VERSION}" (build it with defineContext())`;
  }
  if (typeof context.name !== 'string' || !CONTEXT_NAME.test(context.name)) {
    return `context name ${JSON.stringify(context.name)} must match ${CONTEXT_NAME.source}`;
  }
  const what = `context "${context.name}"`;
  if (typeof context.description !== 'string' || context.description.trim() === '') {
    return `${what} has no description`;
  }
  if (!Array.isArray(context.tools) || context.tools.some((tool) => typeof tool !== 'string')) {
    return `${what}: tools must be a list of tool names, e.g. ['ShellCommand']`;
  }
  if (typeof context.systemPrompt !== 'function') return `${what} has no systemPrompt()`;
  return undefined;
}
