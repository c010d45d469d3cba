import { keyedProvider } from './builtin-provider.js';

/** DeepSeek. */
export const deepseekProvider = keyedProvider({
  name: 'deepseek',
  description: 'DeepSeek',
  apiKeyEnv: 'DEEPSEEK_API_KEY',
  baseUrlEnv: 'DEEPSEEK_BASE_URL',
  defaultBaseUrl: 'https://api.deepseek.com',
  matches: (id) => id.startsWith('deepseek-'),
  knownModels: ['deepseek-chat', 'deepseek-reasoner'],
  defaultModel: 'deepseek-chat',
  build: async ({ modelId, apiKey, baseURL, fetch }) => {
    const { createDeepSeek } = await import('@ai-sdk/deepseek');
    return createDeepSeek({ apiKey, baseURL, fetch })(modelId);
  },
});
