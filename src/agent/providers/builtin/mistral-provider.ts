import { keyedProvider } from './builtin-provider.js';

/** Mistral AI. */
export const mistralProvider = keyedProvider({
  name: 'mistral',
  description: 'Mistral AI',
  apiKeyEnv: 'MISTRAL_API_KEY',
  baseUrlEnv: 'MISTRAL_BASE_URL',
  defaultBaseUrl: 'https://api.mistral.ai/v1',
  matches: (id) => /^(mistral-|codestral|magistral|devstral|ministral|open-mistral|pixtral)/.test(id),
  knownModels: [
    'mistral-large-latest',
    'mistral-medium-latest',
    'codestral-latest',
    'magistral-medium-latest',
  ],
  defaultModel: 'mistral-large-latest',
  build: async ({ modelId, apiKey, baseURL, fetch }) => {
    const { createMistral } = await import('@ai-sdk/mistral');
    return createMistral({ apiKey, baseURL, fetch })(modelId);
  },
});
