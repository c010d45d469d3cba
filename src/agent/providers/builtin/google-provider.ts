import { keyedProvider } from './builtin-provider.js';

/** Google Gemini through the Generative Language API (an API key from Google AI Studio). */
export const googleProvider = keyedProvider({
  name: 'google',
  description: 'Google Gemini (AI Studio API key)',
  apiKeyEnv: 'GOOGLE_GENERATIVE_AI_API_KEY',
  apiKeyAliases: ['GEMINI_API_KEY'],
  baseUrlEnv: 'GOOGLE_GENERATIVE_AI_BASE_URL',
  defaultBaseUrl: 'https://generativelanguage.googleapis.com/v1beta',
  matches: (id) => id.startsWith('gemini-'),
  knownModels: ['gemini-2.5-pro', 'gemini-2.5-flash', 'gemini-2.0-flash'],
  defaultModel: 'gemini-2.5-flash',
  build: async ({ modelId, apiKey, baseURL, fetch }) => {
    const { createGoogleGenerativeAI } = await import('@ai-sdk/google');
    return createGoogleGenerativeAI({ apiKey, baseURL, fetch })(modelId);
  },
});
