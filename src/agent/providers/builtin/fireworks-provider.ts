import { keyedProvider } from './builtin-provider.js';

/** Fireworks AI (OpenAI-compatible under /inference/v1). */
export const fireworksProvider = keyedProvider({
  name: 'fireworks',
  description: 'Fireworks AI',
  apiKeyEnv: 'FIREWORKS_API_KEY',
  baseUrlEnv: 'FIREWORKS_BASE_URL',
  defaultBaseUrl: 'https://api.fireworks.ai/inference/v1',
  matches: (id) => id.startsWith('accounts/fireworks/'),
  knownModels: [
    'accounts/fireworks/models/llama-v3p3-70b-instruct',
    'accounts/fireworks/models/qwen3-235b-a22b',
    'accounts/fireworks/models/deepseek-v3',
  ],
  defaultModel: 'accounts/fireworks/models/llama-v3p3-70b-instruct',
  build: async ({ modelId, apiKey, baseURL, fetch }) => {
    const { createFireworks } = await import('@ai-sdk/fireworks');
    return createFireworks({ apiKey, baseURL, fetch })(modelId);
  },
});
