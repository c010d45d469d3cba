import { ConfigError, errorMessage } from '../errors/opsmate-error.js';
import { ollamaHostUrl } from '../agent/providers/provider-urls.js';

/** Embeds texts with one model; rejects when the model cannot be reached. */
export interface Embedder {
  /** `provider:model` as configured, stored with each vector so a change of model re-embeds. */
  readonly model: string;
  embed(texts: readonly string[], options: { signal?: AbortSignal }): Promise<number[][]>;
}

const PROVIDERS = ['openai', 'ollama', 'openai-compatible'] as const;

/**
 * The embedding model of `spec` (`OPSMATE_EMBEDDING_MODEL`): `openai:text-embedding-3-small`
 * (OPENAI_API_KEY, OPENAI_BASE_URL), `ollama:nomic-embed-text` (OLLAMA_HOST), or
 * `openai-compatible:MODEL` for any server with an OpenAI-style `/v1/embeddings`
 * (OPSMATE_EMBEDDING_BASE_URL, its key in OPSMATE_EMBEDDING_API_KEY). All go through the AI SDK's
 * `embedMany`, which splits large inputs into the provider's batch size. Undefined when no model
 * is configured: the knowledge base is then full-text only.
 */
export async function createEmbedder(options: {
  spec: string | undefined;
  env: NodeJS.ProcessEnv;
  timeoutMs?: number;
}): Promise<Embedder | undefined> {
  const spec = options.spec?.trim();
  if (!spec) return undefined;
  const colon = spec.indexOf(':');
  const provider = colon > 0 ? spec.slice(0, colon).toLowerCase() : '';
  const modelId = colon > 0 ? spec.slice(colon + 1) : '';
  if (!(PROVIDERS as readonly string[]).includes(provider) || modelId === '') {
    throw new ConfigError(`embedding model ${JSON.stringify(spec)} is not provider:model`, {
      hint: `use ${PROVIDERS.map((name) => `${name}:MODEL`).join(', ')}, e.g. openai:text-embedding-3-small`,
    });
  }
  const env = options.env;
  let baseURL: string | undefined;
  let apiKey: string | undefined;
  if (provider === 'openai') {
    baseURL = env.OPSMATE_EMBEDDING_BASE_URL ?? env.OPENAI_BASE_URL;
    apiKey = env.OPSMATE_EMBEDDING_API_KEY ?? env.OPENAI_API_KEY;
    if (!apiKey && !baseURL) {
      throw new ConfigError(`embedding model ${spec} needs OPENAI_API_KEY`, {
        hint: 'set OPENAI_API_KEY, or OPSMATE_EMBEDDING_BASE_URL for a server of your own',
      });
    }
  } else if (provider === 'ollama') {
    // Ollama serves the OpenAI embeddings API under /v1 too.
    const host = env.OLLAMA_HOST ?? env.OLLAMA_BASE_URL?.replace(/\/+$/, '').replace(/\/(v1|api)$/, '');
    baseURL = env.OPSMATE_EMBEDDING_BASE_URL ?? `${ollamaHostUrl(host ?? '127.0.0.1:11434')}/v1`;
    apiKey = env.OPSMATE_EMBEDDING_API_KEY ?? 'ollama';
  } else {
    baseURL = env.OPSMATE_EMBEDDING_BASE_URL;
    apiKey = env.OPSMATE_EMBEDDING_API_KEY ?? 'none';
    if (!baseURL) {
      throw new ConfigError(`embedding model ${spec} needs OPSMATE_EMBEDDING_BASE_URL`, {
        hint: 'the server URL up to /v1, e.g. OPSMATE_EMBEDDING_BASE_URL=http://127.0.0.1:8000/v1',
      });
    }
  }
  const [{ createOpenAI }, { embedMany }] = await Promise.all([import('@ai-sdk/openai'), import('ai')]);
  const model = createOpenAI({ ...(baseURL ? { baseURL } : {}), ...(apiKey ? { apiKey } : {}) }).embedding(
    modelId,
  );
  const timeoutMs = options.timeoutMs ?? 60_000;
  return {
    model: `${provider}:${modelId}`,
    async embed(texts, { signal }) {
      if (texts.length === 0) return [];
      const timeout = AbortSignal.timeout(timeoutMs);
      try {
        const result = await embedMany({
          model,
          values: [...texts],
          maxRetries: 1,
          abortSignal: signal ? AbortSignal.any([signal, timeout]) : timeout,
        });
        return result.embeddings;
      } catch (error) {
        signal?.throwIfAborted();
        throw new Error(
          `embedding model ${provider}:${modelId} at ${baseURL ?? 'api.openai.com'} failed: ${errorMessage(error)}`,
          {
            cause: error,
          },
        );
      }
    },
  };
}
