import { keyedProvider } from './builtin-provider.js';

/** Groq's hosted open models (OpenAI-compatible under /openai/v1). */
export const groqProvider = keyedProvider({
  name: 'groq',
  description: 'Groq',
  apiKeyEnv: 'GROQ_API_KEY',
  baseUrlEnv: 'GROQ_BASE_URL',
  defaultBaseUrl: 'https://api.groq.com/openai/v1',
  knownModels: ['llama-3.3-70b-versatile', 'openai/gpt-oss-120b', 'qwen/qwen3-32b'],
  defaultModel: 'llama-3.3-70b-versatile',
  build: async ({ modelId, apiKey, baseURL, fetch }) => {
    const { createGroq } = await import('@ai-sdk/groq');
    return createGroq({ apiKey, baseURL, fetch })(modelId);
  },
});
