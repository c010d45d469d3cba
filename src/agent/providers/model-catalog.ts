import { ConfigError } from '../../errors/opsmate-error.js';
import type { ProviderDefinition } from './provider-contract.js';

/** The model providers opsmate can talk to. */
export type ProviderName = 'openai' | 'anthropic' | 'ollama' | 'xai';

/** What opsmate knows about a provider without loading its SDK. */
export interface ProviderInfo {
  name: ProviderName;
  description: string;
  /** Env var holding the API key; undefined when the provider needs none (Ollama). */
  apiKeyEnv?: string;
  /** Env var pointing the provider at another server. */
  baseUrlEnv: string;
  /** Where requests go when `baseUrlEnv` is unset. */
  defaultBaseUrl: string;
  /** Bare model names that belong to this provider, e.g. `gpt-4o` for openai. */
  matches: (modelId: string) => boolean;
  /** Models known to work with opsmate's tool calling; others may work too. */
  knownModels: readonly string[];
}

export const PROVIDERS: readonly ProviderInfo[] = [
  {
    name: 'openai',
    description: 'OpenAI, or any OpenAI-compatible server (vLLM, LiteLLM, LM Studio, Ollama /v1)',
    apiKeyEnv: 'OPENAI_API_KEY',
    baseUrlEnv: 'OPENAI_BASE_URL',
    defaultBaseUrl: 'https://api.openai.com/v1',
    matches: (id) => /^(gpt-|chatgpt-|o\d)/.test(id),
    knownModels: [
      'gpt-4o',
      'gpt-4o-mini',
      'gpt-4.1',
      'gpt-4.1-mini',
      'gpt-4.1-nano',
      'o3',
      'o3-mini',
      'o4-mini',
    ],
  },
  {
    name: 'anthropic',
    description: 'Anthropic Claude',
    apiKeyEnv: 'ANTHROPIC_API_KEY',
    baseUrlEnv: 'ANTHROPIC_BASE_URL',
    defaultBaseUrl: 'https://api.anthropic.com/v1',
    matches: (id) => id.startsWith('claude-'),
    knownModels: [
      'claude-3-5-sonnet-20241022',
      'claude-3-7-sonnet-20250219',
      'claude-sonnet-4-20250514',
      'claude-opus-4-20250514',
      'claude-sonnet-4-5',
    ],
  },
  {
    name: 'xai',
    description: 'xAI Grok',
    apiKeyEnv: 'XAI_API_KEY',
    baseUrlEnv: 'XAI_BASE_URL',
    defaultBaseUrl: 'https://api.x.ai/v1',
    matches: (id) => id.startsWith('grok-'),
    knownModels: ['grok-3', 'grok-3-mini', 'grok-4'],
  },
  {
    name: 'ollama',
    description: 'Models served by a local Ollama (OLLAMA_HOST, default http://127.0.0.1:11434)',
    baseUrlEnv: 'OLLAMA_HOST',
    defaultBaseUrl: 'http://127.0.0.1:11434',
    matches: () => false,
    knownModels: ['llama3.1:8b', 'llama3.2', 'qwen2.5:7b', 'qwen3:8b'],
  },
];

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
 * Opsmate-style bare name (`gpt-4o`, `claude-3-7-sonnet-20250219`, `grok-3`). A bare name no
 * provider claims goes to the server named by OPENAI_BASE_URL, else OLLAMA_HOST, since that is
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
  if (owner) return { provider: owner.name, modelId: text };
  if (nonEmpty(env.OPENAI_BASE_URL)) return { provider: 'openai', modelId: text };
  if (nonEmpty(env.OLLAMA_HOST)) return { provider: 'ollama', modelId: text };
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
