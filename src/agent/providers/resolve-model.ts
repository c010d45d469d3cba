import type { LanguageModel } from 'ai';
import { errorMessage, OpsmateError } from '../../errors/opsmate-error.js';
import type { ProviderDefinition } from './provider-contract.js';
import type { ProviderRegistry } from './provider-registry.js';
import { ModelError } from './model-error.js';
import { nonEmpty, parseModelName, providerInfo, type ProviderName } from './model-catalog.js';
import { listServedModels } from './served-models.js';
import { modelFetch, type ModelFetchEvents } from './model-fetch.js';

/** Default `--model-timeout`: seconds without a byte from the model server before giving up. */
export const DEFAULT_MODEL_TIMEOUT_MS = 300_000;

/** How requests to the model are made: its timeout, and who hears about retries. */
export interface ModelRequestOptions {
  /** A request, and every pause in a streamed answer, may last this long (default 300 s). */
  timeoutMs?: number;
  /** Set `onRetry` here, even after the model is built, to show retries as they happen. */
  events?: ModelFetchEvents;
}

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
  /** For a self-hosted server: the models it serves (asked when needed, to explain a 404). */
  servedModels?: () => Promise<string[] | undefined>;
  /**
   * The provider loses the conversation's tool calls and results when asked for no tool calls
   * (Bedrock): the last step keeps the tools, and tool calls made in it are not run.
   */
  keepsToolsOnLastStep?: boolean;
}

/**
 * Builds the model named by `-m` from the environment (read settings from `env`, which holds the
 * config file's values too). Loads only the chosen provider's SDK. Rejects with a ModelError
 * naming the env var when the API key or another required setting is missing, and saying how to
 * use a local model instead.
 */
export async function resolveModel(
  name: string,
  env: NodeJS.ProcessEnv,
  plugins?: ProviderRegistry,
  requests: ModelRequestOptions = {},
): Promise<ResolvedModel> {
  const parsed = parseModelName(name, env, plugins);
  const connectionAwareFetch = (): typeof globalThis.fetch =>
    modelFetch({
      timeoutMs: requests.timeoutMs ?? DEFAULT_MODEL_TIMEOUT_MS,
      ...(requests.events ? { events: requests.events } : {}),
    });
  if ('plugin' in parsed) {
    return await resolvePluginModel({
      provider: parsed.plugin,
      modelId: parsed.modelId,
      env,
      plugins,
      fetch: connectionAwareFetch(),
    });
  }
  const info = providerInfo(parsed.provider);
  const baseUrl = info.baseUrl(env);
  const missing = info.missing(env, parsed.modelId);
  if (missing) throw missing;
  const model = await info.createModel({ modelId: parsed.modelId, env, fetch: connectionAwareFetch() });
  return {
    provider: parsed.provider,
    modelId: parsed.modelId,
    baseUrl,
    ...(info.apiKeyEnv ? { apiKeyEnv: info.apiKeyEnv } : {}),
    model,
    ...(info.keepsToolsOnLastStep ? { keepsToolsOnLastStep: true } : {}),
    ...(info.modelListUrl?.(env) !== undefined
      ? { servedModels: async () => (await listServedModels(info, env))?.models }
      : {}),
  };
}

/** A model of a plugin's provider; errors from its code name the plugin. */
async function resolvePluginModel(options: {
  provider: ProviderDefinition;
  modelId: string;
  env: NodeJS.ProcessEnv;
  plugins: ProviderRegistry | undefined;
  fetch: typeof globalThis.fetch;
}): Promise<ResolvedModel> {
  const { provider, modelId, env, plugins } = options;
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
    const model = await provider.createModel({ modelId, env, fetch: options.fetch });
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
