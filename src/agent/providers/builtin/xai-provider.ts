import { keyedProvider } from './builtin-provider.js';

/** xAI Grok. */
export const xaiProvider = keyedProvider({
  name: 'xai',
  description: 'xAI Grok',
  apiKeyEnv: 'XAI_API_KEY',
  baseUrlEnv: 'XAI_BASE_URL',
  defaultBaseUrl: 'https://api.x.ai/v1',
  keylessWithBaseUrl: true,
  matches: (id) => id.startsWith('grok-'),
  knownModels: ['grok-3', 'grok-3-mini', 'grok-4'],
  defaultModel: 'grok-4',
  build: async ({ modelId, apiKey, baseURL, fetch }) => {
    const { createXai } = await import('@ai-sdk/xai');
    return createXai({ baseURL, apiKey, fetch }).chat(modelId);
  },
});
