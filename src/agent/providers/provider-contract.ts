import type { LanguageModel } from 'ai';

/** Version tag of the provider contract below. Bumped only on a breaking change. */
export const PROVIDER_SPECIFICATION_VERSION = 'opsmate.provider.v1';

/** One env var a provider reads, shown by `opsmate list-models`. */
export interface ProviderEnvVar {
  /** e.g. `MYCLOUD_API_KEY`. */
  name: string;
  /** One line: what it holds. */
  description: string;
  /** Without it the provider cannot work: `-m` fails early, naming the variable. Default false. */
  required?: boolean;
  /** Its value is a credential: never shown (list-models says only "set"). Default false. */
  secret?: boolean;
}

/** What {@link ProviderDefinition.createModel} gets. */
export interface ProviderModelOptions {
  /** The part of `-m provider:model` after the colon. */
  modelId: string;
  /** The environment opsmate runs with; read your env vars from it, not from `process.env`. */
  env: NodeJS.ProcessEnv;
  /**
   * A `fetch` to hand to the SDK: it fails at once, naming the URL, when nothing listens there.
   * Optional to use.
   */
  fetch: typeof globalThis.fetch;
}

/**
 * A model provider a plugin adds: `-m <name>:<model>` picks it. `createModel` returns an AI SDK
 * language model (`LanguageModelV2` or `V3`, e.g. from an `@ai-sdk/*` package, or
 * {@link openAiCompatibleModel} for any OpenAI-compatible server).
 */
export interface ProviderDefinition {
  specificationVersion: typeof PROVIDER_SPECIFICATION_VERSION;
  /** Lower-case name before the colon in `-m`: `[a-z][a-z0-9-]*`, not a built-in provider's. */
  name: string;
  /** One line for `opsmate list-models`. */
  description: string;
  /** The env vars it reads (API key, base URL...), shown by `opsmate list-models`. */
  env: readonly ProviderEnvVar[];
  /** Model ids known to work, listed by `opsmate list-models`; others may work too. Default none. */
  models?: readonly string[];
  /** Where requests go, for error messages; default `the <name> provider`. */
  baseUrl?(env: NodeJS.ProcessEnv): string;
  /**
   * Builds the model. Called once per command, after the required env vars were found. Throw an
   * `OpsmateError` (a `ConfigError` for a bad setting) with a hint saying what to fix.
   */
  createModel(options: ProviderModelOptions): LanguageModel | Promise<LanguageModel>;
}

/** Declares a provider. An identity function that exists for type inference. */
export function defineProvider(
  definition: Omit<ProviderDefinition, 'specificationVersion'>,
): ProviderDefinition {
  return { ...definition, specificationVersion: PROVIDER_SPECIFICATION_VERSION };
}

/**
 * A model on any server that speaks the OpenAI Chat Completions API (vLLM, LiteLLM, a company
 * gateway...), for a provider plugin's `createModel`. Loads the OpenAI SDK only when called.
 */
export async function openAiCompatibleModel(options: {
  /** e.g. `https://llm.example.com/v1`. */
  baseURL: string;
  modelId: string;
  apiKey?: string;
  fetch?: typeof globalThis.fetch;
  /** Extra request headers. */
  headers?: Record<string, string>;
}): Promise<LanguageModel> {
  const { createOpenAI } = await import('@ai-sdk/openai');
  const provider = createOpenAI({
    baseURL: options.baseURL.replace(/\/+$/, ''),
    apiKey: options.apiKey ?? 'opsmate-no-key',
    ...(options.fetch ? { fetch: options.fetch } : {}),
    ...(options.headers ? { headers: options.headers } : {}),
  });
  return provider.chat(options.modelId);
}
