import { ModelError } from './model-error.js';
import { modelDisplayName, PROVIDERS, providerInfo } from './model-catalog.js';
import { listServedModels } from './served-models.js';

/** The model opsmate uses when none is configured and nothing else is set up. */
export const FALLBACK_MODEL = 'gpt-4o';

/** The model chosen when `-m`/`OPSMATE_MODEL`/the config file name none, and why. */
export interface DefaultModel {
  /** A `-m` name. */
  name: string;
  /** Why this one, for `config show`, `list-models` and debug logs. */
  reason: string;
}

/**
 * Follows what is configured:
 * - a self-hosted OpenAI-compatible server (OPENAI_BASE_URL) or Ollama (OLLAMA_HOST /
 *   OLLAMA_BASE_URL) that serves one model: that model; one that serves several, none of them
 *   gpt-4o: a ModelError listing them (it cannot guess);
 * - else the first hosted provider with a key (OPENAI_API_KEY → gpt-4o, only ANTHROPIC_API_KEY →
 *   a Claude model, GEMINI_API_KEY → Gemini...);
 * - else gpt-4o, whose missing key is then the error the user sees.
 * A server that cannot be asked is not an error here: the model call will say what is wrong.
 */
export async function chooseDefaultModel(
  env: NodeJS.ProcessEnv,
  options: { signal?: AbortSignal } = {},
): Promise<DefaultModel> {
  for (const name of ['openai', 'ollama'] as const) {
    const provider = providerInfo(name);
    const served = await listServedModels(provider, env, options);
    if (!served?.models) continue;
    const variable = name === 'openai' ? 'OPENAI_BASE_URL' : 'the Ollama server';
    if (served.models.length === 1) {
      return {
        name: `${name}:${served.models[0]!}`,
        reason: `the only model ${variable} serves`,
      };
    }
    if (name === 'openai' && served.models.includes(FALLBACK_MODEL)) {
      return { name: FALLBACK_MODEL, reason: `served by OPENAI_BASE_URL` };
    }
    if (served.models.length === 0) {
      throw new ModelError(`${served.url} serves no models`, {
        hint:
          name === 'ollama'
            ? 'pull one (ollama pull llama3.2) or choose another with -m'
            : 'choose a model with -m',
      });
    }
    throw new ModelError(
      `no model chosen, and ${served.url} serves ${served.models.length} models: ${shortList(served.models)}`,
      {
        hint: `choose one with -m ${name}:<model> (or OPSMATE_MODEL in the config file), e.g. -m ${name}:${served.models[0]!}`,
      },
    );
  }
  const openai = providerInfo('openai');
  if (openai.configured(env)) {
    return {
      name: FALLBACK_MODEL,
      reason: `${env.OPENAI_API_KEY ? 'OPENAI_API_KEY' : 'OPENAI_BASE_URL'} is set`,
    };
  }
  const hosted = PROVIDERS.find(
    (provider) =>
      provider.defaultModel !== undefined && provider.name !== 'ollama' && provider.configured(env),
  );
  if (hosted?.defaultModel !== undefined) {
    return {
      name: modelDisplayName(hosted.name, hosted.defaultModel),
      reason: `${hosted.apiKeyEnv ?? hosted.name} is set`,
    };
  }
  return { name: FALLBACK_MODEL, reason: 'no provider is configured' };
}

function shortList(models: readonly string[]): string {
  return models.length <= 12
    ? models.join(', ')
    : `${models.slice(0, 12).join(', ')}, and ${models.length - 12} more`;
}
