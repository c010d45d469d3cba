import { envValue, keyedProvider } from './builtin-provider.js';

/** OpenAI, or any server speaking its Chat Completions API (vLLM, LiteLLM, LM Studio, Ollama's /v1). */
export const openaiProvider = {
  ...keyedProvider({
    name: 'openai',
    description: 'OpenAI, or any OpenAI-compatible server (vLLM, LiteLLM, LM Studio, Ollama /v1)',
    apiKeyEnv: 'OPENAI_API_KEY',
    baseUrlEnv: 'OPENAI_BASE_URL',
    defaultBaseUrl: 'https://api.openai.com/v1',
    keylessWithBaseUrl: true,
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
    defaultModel: 'gpt-4o',
    // Chat Completions, not the Responses API, which most compatible servers lack.
    build: async ({ modelId, apiKey, baseURL, fetch }) => {
      const { createOpenAI } = await import('@ai-sdk/openai');
      return createOpenAI({ baseURL, apiKey, fetch }).chat(modelId);
    },
  }),
  modelListUrl: (env: NodeJS.ProcessEnv) => {
    const base = envValue(env, 'OPENAI_BASE_URL');
    return base === undefined ? undefined : `${base.replace(/\/+$/, '')}/models`;
  },
};
