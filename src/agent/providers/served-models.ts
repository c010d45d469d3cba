import { errorMessage } from '../../errors/opsmate-error.js';
import { envValue } from './builtin/builtin-provider.js';
import type { ProviderInfo } from './model-catalog.js';

/** How long to wait for a self-hosted server's model list. */
export const MODEL_LIST_TIMEOUT_MS = 2_000;

/** What a self-hosted server says it serves. */
export interface ServedModels {
  url: string;
  /** Model ids, as the server names them; undefined when the list could not be had. */
  models?: string[];
  /** Why the list could not be had. */
  problem?: string;
}

/**
 * Asks the self-hosted server a provider is pointed at (OPENAI_BASE_URL's `/models`, Ollama's
 * `/api/tags`) which models it serves. Hosted APIs are never asked. Undefined when the provider
 * is not pointed at such a server. Never throws.
 */
export async function listServedModels(
  provider: ProviderInfo,
  env: NodeJS.ProcessEnv,
  options: { signal?: AbortSignal; timeoutMs?: number } = {},
): Promise<ServedModels | undefined> {
  const url = provider.modelListUrl?.(env);
  if (url === undefined) return undefined;
  try {
    const headers: Record<string, string> = {};
    const key = provider.apiKeyEnv ? envValue(env, provider.apiKeyEnv) : undefined;
    if (key !== undefined) headers.authorization = `Bearer ${key}`;
    const timeout = AbortSignal.timeout(options.timeoutMs ?? MODEL_LIST_TIMEOUT_MS);
    const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
    const response = await fetch(url, { headers, signal });
    if (!response.ok) return { url, problem: `${url} answered HTTP ${response.status}` };
    const body = (await response.json()) as {
      data?: Array<{ id?: unknown }>;
      models?: Array<{ name?: unknown; model?: unknown }>;
    };
    const ids = [
      ...(body.data ?? []).map((model) => model.id),
      ...(body.models ?? []).map((model) => model.name ?? model.model),
    ].filter((id): id is string => typeof id === 'string' && id !== '');
    return { url, models: ids };
  } catch (error) {
    return { url, problem: `cannot list the models at ${url}: ${errorMessage(error)}` };
  }
}
