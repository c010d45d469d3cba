import { anthropicBaseUrl } from '../provider-urls.js';
import { envValue, keyedProvider, type BuiltinProvider } from './builtin-provider.js';

const base = keyedProvider({
  name: 'anthropic',
  description: 'Anthropic Claude',
  apiKeyEnv: 'ANTHROPIC_API_KEY',
  baseUrlEnv: 'ANTHROPIC_BASE_URL',
  defaultBaseUrl: 'https://api.anthropic.com/v1',
  keylessWithBaseUrl: true,
  matches: (id) => id.startsWith('claude-'),
  knownModels: [
    'claude-3-5-sonnet-20241022',
    'claude-3-7-sonnet-20250219',
    'claude-sonnet-4-20250514',
    'claude-opus-4-20250514',
    'claude-sonnet-4-5',
  ],
  defaultModel: 'claude-sonnet-4-5',
  build: async ({ modelId, apiKey, baseURL, fetch }) => {
    const { createAnthropic } = await import('@ai-sdk/anthropic');
    return createAnthropic({ baseURL: anthropicBaseUrl(baseURL), apiKey, fetch })(modelId);
  },
});

/** Anthropic's Messages API. The SDK wants the base URL to end in /v1; proxies are often set without. */
export const anthropicProvider: BuiltinProvider = {
  ...base,
  // A key is what configures Anthropic: a proxy URL alone is not a reason to pick Claude.
  configured: (env) => envValue(env, 'ANTHROPIC_API_KEY') !== undefined,
  baseUrl: (env) => anthropicBaseUrl(base.baseUrl(env)),
};
