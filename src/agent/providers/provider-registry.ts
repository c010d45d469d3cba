import { ExtensionRegistry } from '../extension-registry.js';
import { BUILTIN_PROVIDER_NAMES } from './builtin/provider-names.js';
import { PROVIDER_SPECIFICATION_VERSION, type ProviderDefinition } from './provider-contract.js';

const PROVIDER_NAME = /^[a-z][a-z0-9-]*$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Model providers that plugins add; the built-in ones live in the model catalog. */
export type ProviderRegistry = ExtensionRegistry<ProviderDefinition>;

export function createProviderRegistry(): ProviderRegistry {
  return new ExtensionRegistry<ProviderDefinition>({
    kind: 'provider',
    listCommand: 'opsmate list-models',
    validate: validateProviderDefinition,
  });
}

/** What is wrong with a provider definition from untrusted code, or undefined. */
export function validateProviderDefinition(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return 'a provider definition must be an object';
  const provider = value as Partial<Record<keyof ProviderDefinition, unknown>>;
  if (provider.specificationVersion !== PROVIDER_SPECIFICATION_VERSION) {
    return `provider definition has specificationVersion ${JSON.stringify(provider.specificationVersion)}, expected "${PROVIDER_SPECIFICATION_VERSION}" (build it with defineProvider())`;
  }
  if (typeof provider.name !== 'string' || !PROVIDER_NAME.test(provider.name)) {
    return `provider name ${JSON.stringify(provider.name)} must match ${PROVIDER_NAME.source}`;
  }
  const what = `provider "${provider.name}"`;
  if ((BUILTIN_PROVIDER_NAMES as readonly string[]).includes(provider.name)) {
    return `provider name "${provider.name}" is already taken by a built-in provider`;
  }
  if (typeof provider.description !== 'string' || provider.description.trim() === '') {
    return `${what} has no description`;
  }
  if (!Array.isArray(provider.env)) return `${what}: env must list the env vars it reads ([] for none)`;
  for (const variable of provider.env as unknown[]) {
    const item = variable as { name?: unknown; description?: unknown };
    if (typeof item?.name !== 'string' || !ENV_NAME.test(item.name)) {
      return `${what}: env var name ${JSON.stringify(item?.name)} is not a valid env var name`;
    }
    if (typeof item.description !== 'string') return `${what}: env var ${item.name} has no description`;
  }
  if (
    provider.models !== undefined &&
    (!Array.isArray(provider.models) || provider.models.some((m) => typeof m !== 'string'))
  ) {
    return `${what}: models must be a list of model ids`;
  }
  if (typeof provider.createModel !== 'function') return `${what} has no createModel()`;
  return undefined;
}
