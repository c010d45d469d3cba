import type { LanguageModel } from 'ai';
import { ConfigError } from '../../../errors/opsmate-error.js';
import { ModelError } from '../model-error.js';
import type { ProviderEnvVar } from '../provider-contract.js';
import { trimSlash } from '../provider-urls.js';

import type { ProviderName } from './provider-names.js';

export type { ProviderName } from './provider-names.js';

/** What {@link BuiltinProvider.createModel} gets. */
export interface BuiltinModelOptions {
  modelId: string;
  /** The environment with the config file under it: read every setting from here. */
  env: NodeJS.ProcessEnv;
  /** Fails at once, naming the URL, when nothing listens there. */
  fetch: typeof globalThis.fetch;
}

/**
 * One built-in provider: what it reads, how to tell it is configured, and how to build a model.
 * Its SDK is imported inside `createModel` only, so listing providers loads no SDK.
 */
export interface BuiltinProvider {
  name: ProviderName;
  /** One line for `opsmate list-models`. */
  description: string;
  /** The API key's env var, named in errors and hints (the first of several accepted names). */
  apiKeyEnv?: string;
  /** Every env var it reads, shown by `opsmate list-models` and accepted in the config file. */
  env: readonly ProviderEnvVar[];
  /** The env var that points it at another server. */
  baseUrlEnv?: string;
  /** Where requests go by default. */
  defaultBaseUrl: string;
  /** Bare model names (`-m NAME` without `provider:`) that belong to it. */
  matches: (modelId: string) => boolean;
  /** Models known to work with opsmate's tool calling; others may work too. */
  knownModels: readonly string[];
  /** The model used when this is the provider that is configured and `-m` is not given. */
  defaultModel?: string;
  /** The environment sets this provider up (a key, a server, a project). */
  configured(env: NodeJS.ProcessEnv): boolean;
  /** Why it cannot be used with this environment (an error to throw), or undefined. */
  missing(env: NodeJS.ProcessEnv, modelId: string): ModelError | ConfigError | undefined;
  /** Where requests go, for messages. Throws a ConfigError for a bad base URL. */
  baseUrl(env: NodeJS.ProcessEnv): string;
  /** Asking it for no tool calls drops the tool calls and results of the conversation (Bedrock). */
  keepsToolsOnLastStep?: boolean;
  /** The URL listing the models of a self-hosted server the environment points at. */
  modelListUrl?(env: NodeJS.ProcessEnv): string | undefined;
  createModel(options: BuiltinModelOptions): Promise<LanguageModel>;
}

/** Sent when a local server needs no key but the SDK insists on one. */
export const PLACEHOLDER_API_KEY = 'opsmate-no-key';

/** The first of `names` set (not empty) in `env`, trimmed. */
export function envValue(env: NodeJS.ProcessEnv, ...names: string[]): string | undefined {
  for (const name of names) {
    const value = env[name];
    if (value !== undefined && value.trim() !== '') return value.trim();
  }
  return undefined;
}

/** `env[name]` checked to be an http(s) URL, without a trailing slash; `fallback` when unset. */
export function urlSetting(env: NodeJS.ProcessEnv, name: string, fallback: string): string {
  const value = envValue(env, name);
  if (value === undefined) return trimSlash(fallback);
  if (!isHttpUrl(value)) {
    throw new ConfigError(`${name} ${JSON.stringify(value)} is not an http(s) URL`, {
      hint: `e.g. ${name}=${fallback}`,
    });
  }
  return trimSlash(value);
}

export function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}

/** How to run without a hosted key, added to every "key is not set" hint. */
const LOCAL_MODEL_HINT =
  'or use a local model: OPENAI_BASE_URL=http://127.0.0.1:11434/v1 (any OpenAI-compatible server) with -m openai:<model>, ' +
  'or OLLAMA_HOST=http://127.0.0.1:11434 with -m ollama:<model>. ' +
  'Keys may also go in the config file (~/.opsmate/config.yaml). ' +
  'No model is needed for `opsmate exec --info` or `opsmate exec -- COMMAND`';

/** The error for a missing API key: names the variable and the alternatives. */
export function missingKey(variable: string, modelId: string, others: string[] = []): ModelError {
  const also = others.length > 0 ? ` (or ${others.join(', ')})` : '';
  return new ModelError(`${variable} is not set${also}: model ${modelId} needs an API key`, {
    hint: `export ${variable}=..., ${LOCAL_MODEL_HINT}`,
  });
}

/** A provider reached with one API key and an optional base URL: most hosted ones. */
export function keyedProvider(options: {
  name: ProviderName;
  description: string;
  apiKeyEnv: string;
  /** Other accepted names of the key, e.g. GEMINI_API_KEY. */
  apiKeyAliases?: string[];
  baseUrlEnv: string;
  defaultBaseUrl: string;
  matches?: (modelId: string) => boolean;
  knownModels: readonly string[];
  defaultModel?: string;
  /** Builds the model from the key and the base URL. */
  build(input: {
    modelId: string;
    apiKey: string;
    baseURL: string;
    fetch: typeof globalThis.fetch;
  }): Promise<LanguageModel>;
  /** A base URL counts as configuration on its own (a self-hosted server needs no key). */
  keylessWithBaseUrl?: boolean;
}): BuiltinProvider {
  const keyNames = [options.apiKeyEnv, ...(options.apiKeyAliases ?? [])];
  const key = (env: NodeJS.ProcessEnv): string | undefined => envValue(env, ...keyNames);
  const customBase = (env: NodeJS.ProcessEnv): boolean => envValue(env, options.baseUrlEnv) !== undefined;
  return {
    name: options.name,
    description: options.description,
    apiKeyEnv: options.apiKeyEnv,
    env: [
      ...keyNames.map((name, index) => ({
        name,
        description: index === 0 ? `${options.description} API key` : `same as ${options.apiKeyEnv}`,
        secret: true,
      })),
      { name: options.baseUrlEnv, description: `server URL (default ${options.defaultBaseUrl})` },
    ],
    baseUrlEnv: options.baseUrlEnv,
    defaultBaseUrl: options.defaultBaseUrl,
    matches: options.matches ?? (() => false),
    knownModels: options.knownModels,
    ...(options.defaultModel !== undefined ? { defaultModel: options.defaultModel } : {}),
    configured: (env) => key(env) !== undefined || (options.keylessWithBaseUrl === true && customBase(env)),
    missing: (env, modelId) => {
      if (key(env) !== undefined) return undefined;
      if (options.keylessWithBaseUrl === true && customBase(env)) return undefined;
      return missingKey(options.apiKeyEnv, modelId, options.apiKeyAliases);
    },
    baseUrl: (env) => urlSetting(env, options.baseUrlEnv, options.defaultBaseUrl),
    createModel: async ({ modelId, env, fetch }) =>
      options.build({
        modelId,
        apiKey: key(env) ?? PLACEHOLDER_API_KEY,
        baseURL: urlSetting(env, options.baseUrlEnv, options.defaultBaseUrl),
        fetch,
      }),
  };
}
