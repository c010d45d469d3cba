import type { LanguageModel } from 'ai';
import { ConfigError, errorMessage, OpsmateError } from '../../errors/opsmate-error.js';
import type { ProviderDefinition } from './provider-contract.js';
import type { ProviderRegistry } from './provider-registry.js';
import { ModelError } from './model-error.js';
import { nonEmpty, parseModelName, providerInfo, type ProviderName } from './model-catalog.js';
import { anthropicBaseUrl, ollamaHostUrl, trimSlash } from './provider-urls.js';

/** A model ready for `streamText`, with what error messages need to name. */
export interface ResolvedModel {
  /** A built-in provider's name, or a plugin provider's. */
  provider: ProviderName | (string & {});
  modelId: string;
  /** Where requests go, for messages like "cannot connect to ...". */
  baseUrl: string;
  /** Env var of the API key, when the provider takes one. */
  apiKeyEnv?: string;
  model: LanguageModel;
}

/** Sent when a local OpenAI-compatible server needs no key but the SDK insists on one. */
const PLACEHOLDER_API_KEY = 'opsmate-no-key';

/**
 * Builds the model named by `-m` from the environment. Loads only the chosen provider's SDK.
 * Rejects with a ModelError naming the env var when the API key is missing, and saying how to
 * use a local model instead.
 */
export async function resolveModel(
  name: string,
  env: NodeJS.ProcessEnv,
  plugins?: ProviderRegistry,
): Promise<ResolvedModel> {
  const parsed = parseModelName(name, env, plugins);
  if ('plugin' in parsed) return await resolvePluginModel(parsed.plugin, parsed.modelId, env, plugins);
  const choice = parsed;
  const info = providerInfo(choice.provider);
  const customBaseUrl = nonEmpty(env[info.baseUrlEnv]) ? env[info.baseUrlEnv]!.trim() : undefined;
  if (customBaseUrl && choice.provider !== 'ollama' && !isHttpUrl(customBaseUrl)) {
    throw new ConfigError(`${info.baseUrlEnv} ${JSON.stringify(customBaseUrl)} is not an http(s) URL`, {
      hint: `e.g. ${info.baseUrlEnv}=${info.defaultBaseUrl}`,
    });
  }
  const apiKey = info.apiKeyEnv && nonEmpty(env[info.apiKeyEnv]) ? env[info.apiKeyEnv]!.trim() : undefined;
  if (info.apiKeyEnv && !apiKey && !customBaseUrl) {
    throw new ModelError(`${info.apiKeyEnv} is not set: model ${choice.modelId} needs an API key`, {
      hint:
        `export ${info.apiKeyEnv}=..., or use a local model: ` +
        'OPENAI_BASE_URL=http://127.0.0.1:11434/v1 (any OpenAI-compatible server) with -m openai:<model>, ' +
        'or OLLAMA_HOST=http://127.0.0.1:11434 with -m ollama:<model>. ' +
        'No model is needed for `opsmate exec --info` or `opsmate exec -- COMMAND`',
    });
  }
  const fetch = connectionAwareFetch();
  const common = {
    provider: choice.provider,
    modelId: choice.modelId,
    ...(info.apiKeyEnv ? { apiKeyEnv: info.apiKeyEnv } : {}),
  };
  switch (choice.provider) {
    case 'openai': {
      const baseUrl = trimSlash(customBaseUrl ?? info.defaultBaseUrl);
      const { createOpenAI } = await import('@ai-sdk/openai');
      const provider = createOpenAI({ baseURL: baseUrl, apiKey: apiKey ?? PLACEHOLDER_API_KEY, fetch });
      return { ...common, baseUrl, model: provider.chat(choice.modelId) };
    }
    case 'anthropic': {
      const baseUrl = anthropicBaseUrl(customBaseUrl ?? info.defaultBaseUrl);
      const { createAnthropic } = await import('@ai-sdk/anthropic');
      const provider = createAnthropic({ baseURL: baseUrl, apiKey: apiKey ?? PLACEHOLDER_API_KEY, fetch });
      return { ...common, baseUrl, model: provider(choice.modelId) };
    }
    case 'xai': {
      const baseUrl = trimSlash(customBaseUrl ?? info.defaultBaseUrl);
      const { createXai } = await import('@ai-sdk/xai');
      const provider = createXai({ baseURL: baseUrl, apiKey: apiKey ?? PLACEHOLDER_API_KEY, fetch });
      return { ...common, baseUrl, model: provider.chat(choice.modelId) };
    }
    case 'ollama': {
      const baseUrl = `${ollamaHostUrl(customBaseUrl ?? info.defaultBaseUrl)}/api`;
      const { createOllama } = await import('ollama-ai-provider-v2');
      const provider = createOllama({ baseURL: baseUrl, fetch });
      return { ...common, baseUrl, model: provider.chat(choice.modelId) };
    }
  }
}

/** A model of a plugin's provider; errors from its code name the plugin. */
async function resolvePluginModel(
  provider: ProviderDefinition,
  modelId: string,
  env: NodeJS.ProcessEnv,
  plugins: ProviderRegistry | undefined,
): Promise<ResolvedModel> {
  const packageName = plugins?.get(provider.name)?.source.packageName;
  const origin = packageName ? ` (plugin ${packageName})` : '';
  const missing = provider.env.filter((variable) => variable.required && !nonEmpty(env[variable.name]));
  if (missing.length > 0) {
    throw new ModelError(
      `${missing.map((variable) => variable.name).join(' and ')} ${missing.length === 1 ? 'is' : 'are'} not set: provider ${provider.name}${origin} needs ${missing.length === 1 ? 'it' : 'them'}`,
      { hint: missing.map((variable) => `${variable.name}: ${variable.description}`).join('; ') },
    );
  }
  const secretEnv = provider.env.find((variable) => variable.secret)?.name;
  let baseUrl = `the ${provider.name} provider`;
  try {
    if (provider.baseUrl) baseUrl = provider.baseUrl(env);
    const model = await provider.createModel({ modelId, env, fetch: connectionAwareFetch() });
    return {
      provider: provider.name,
      modelId,
      baseUrl,
      ...(secretEnv ? { apiKeyEnv: secretEnv } : {}),
      model,
    };
  } catch (error) {
    if (OpsmateError.isInstance(error)) throw error;
    throw new ModelError(
      `provider ${provider.name}${origin} failed to create model ${modelId}: ${errorMessage(error)}`,
      {
        hint: packageName
          ? `this is a problem in ${packageName}: report it to its author, or remove it with opsmate uninstall -y ${packageName}`
          : 'check the provider',
      },
    );
  }
}

/**
 * fetch that fails at once, naming the URL, when nothing listens there. The SDK would retry a
 * refused connection with backoff, which only delays the one-line error the user needs.
 */
function connectionAwareFetch(): typeof globalThis.fetch {
  return async (input, init) => {
    try {
      return await globalThis.fetch(input, init);
    } catch (error) {
      const code = networkCode(error);
      // No `cause`: the SDK walks the cause chain and would turn a refused connection into a retry.
      if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
        const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
        const what = code === 'ECONNREFUSED' ? 'connection refused' : 'host not found';
        throw new ModelError(`cannot connect to ${url}: ${what}`, {
          hint: 'check the server is running and the base URL env var (OPENAI_BASE_URL, ANTHROPIC_BASE_URL, OLLAMA_HOST) points at it',
        });
      }
      throw error;
    }
  };
}

function networkCode(error: unknown): string | undefined {
  for (let current: unknown = error, depth = 0; current && depth < 5; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    const errors = (current as { errors?: unknown }).errors;
    if (Array.isArray(errors) && errors.length > 0) current = errors[0];
    else current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}
