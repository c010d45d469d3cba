import { ConfigError } from '../../errors/opsmate-error.js';
import { BUILTIN_PROVIDERS } from './builtin-providers.js';
import type { BuiltinProvider, ProviderName } from './builtin/builtin-provider.js';
import type { ProviderDefinition } from './provider-contract.js';

export type { ProviderName } from './builtin/builtin-provider.js';

/** What opsmate knows about a built-in provider without loading its SDK. */
export type ProviderInfo = BuiltinProvider;

export const PROVIDERS: readonly ProviderInfo[] = BUILTIN_PROVIDERS;

export function providerInfo(name: ProviderName): ProviderInfo {
  const info = PROVIDERS.find((provider) => provider.name === name);
  if (!info) throw new TypeError(`no provider ${name}`);
  return info;
}

/** A model name split into its provider and the id that provider knows it by. */
export interface ModelChoice {
  provider: ProviderName;
  modelId: string;
}

/** A model of a provider a plugin adds (`-m myprovider:model`). */
export interface PluginModelChoice {
  plugin: ProviderDefinition;
  modelId: string;
}

/**
 * Reads `-m/--model`: `provider:model` (`ollama:llama3.2`, `openai:my-vllm-model`) or an
 * Opsmate-style bare name (`gpt-4o`, `claude-3-7-sonnet-20250219`, `grok-3`, `gemini-2.5-pro`).
 * A bare name goes to the provider that claims it; when that provider is not configured and
 * another configured one lists the model (`gemini-2.5-pro` on Vertex), to that one. A bare name
 * no provider claims goes to the server named by OPENAI_BASE_URL, else Ollama's, since that is
 * where a local model lives. Throws a ConfigError saying how to name the model otherwise.
 */
export function parseModelName(
  name: string,
  env: NodeJS.ProcessEnv,
  plugins?: { get(name: string): { definition: ProviderDefinition } | undefined; names(): string[] },
): ModelChoice | PluginModelChoice {
  const text = name.trim();
  const colon = text.indexOf(':');
  if (colon > 0) {
    const prefix = text.slice(0, colon).toLowerCase();
    const modelId = text.slice(colon + 1);
    const plugin = plugins?.get(prefix);
    if (plugin && modelId !== '') return { plugin: plugin.definition, modelId };
    const provider = PROVIDERS.find((candidate) => candidate.name === prefix);
    if (provider && modelId !== '') return { provider: provider.name, modelId };
    if (!provider && isProviderLike(prefix) && !looksLikeOllamaTag(text)) {
      const known = [...PROVIDERS.map((candidate) => candidate.name), ...(plugins?.names() ?? [])];
      throw new ConfigError(`unknown model provider "${prefix}" in --model ${text}`, {
        hint: `use one of ${known.map((candidate) => `${candidate}:`).join(', ')} (see \`opsmate list-models\`)`,
      });
    }
  }
  if (text === '')
    throw new ConfigError('--model is empty', { hint: 'e.g. -m gpt-4o or -m ollama:llama3.2' });
  const owner = PROVIDERS.find((provider) => provider.matches(text));
  if (owner) {
    if (!owner.configured(env)) {
      const other = PROVIDERS.find(
        (provider) => provider !== owner && provider.configured(env) && provider.knownModels.includes(text),
      );
      if (other) return { provider: other.name, modelId: text };
    }
    return { provider: owner.name, modelId: text };
  }
  if (nonEmpty(env.OPENAI_BASE_URL)) return { provider: 'openai', modelId: text };
  if (nonEmpty(env.OLLAMA_HOST) || nonEmpty(env.OLLAMA_BASE_URL))
    return { provider: 'ollama', modelId: text };
  throw new ConfigError(`unknown model "${text}": no provider serves models of that name`, {
    hint:
      'name the provider, e.g. -m ollama:llama3.2 or -m openai:<model> with OPENAI_BASE_URL, ' +
      'or pick one from `opsmate list-models`',
  });
}

/** `prefix` could be a provider name (letters, digits, dashes) rather than a model family. */
function isProviderLike(prefix: string): boolean {
  return /^[a-z][a-z0-9-]*$/.test(prefix);
}

/** Ollama names carry a tag after a colon (`llama3.1:8b`): not a provider prefix. */
function looksLikeOllamaTag(text: string): boolean {
  const tag = text.slice(text.indexOf(':') + 1);
  return /^[0-9a-z._-]+$/i.test(tag) && /^\d|latest|instruct|q\d/i.test(tag);
}

export function nonEmpty(value: string | undefined): value is string {
  return value !== undefined && value.trim() !== '';
}

/** The `-m` name of a model: bare when its provider claims bare names, else `provider:model`. */
export function modelDisplayName(provider: string, modelId: string): string {
  const info = PROVIDERS.find((candidate) => candidate.name === provider);
  return info?.matches(modelId) ? modelId : `${provider}:${modelId}`;
}
