import { ModelError } from '../model-error.js';
import { envValue, missingKey, urlSetting, type BuiltinProvider } from './builtin-provider.js';

/**
 * Azure OpenAI: `-m azure:<deployment>`, at `https://<AZURE_RESOURCE_NAME>.openai.azure.com/openai`
 * or `AZURE_BASE_URL`, with the key in the `api-key` header. Chat Completions API.
 */
export const azureProvider: BuiltinProvider = {
  name: 'azure',
  description: 'Azure OpenAI (-m azure:<deployment>)',
  apiKeyEnv: 'AZURE_API_KEY',
  env: [
    { name: 'AZURE_API_KEY', description: 'Azure OpenAI API key', secret: true },
    { name: 'AZURE_RESOURCE_NAME', description: 'resource name: https://<name>.openai.azure.com' },
    {
      name: 'AZURE_BASE_URL',
      description: 'server URL instead of the resource name, e.g. https://x.openai.azure.com/openai',
    },
    { name: 'AZURE_API_VERSION', description: 'API version (default v1)' },
  ],
  baseUrlEnv: 'AZURE_BASE_URL',
  defaultBaseUrl: 'https://<AZURE_RESOURCE_NAME>.openai.azure.com/openai',
  matches: () => false,
  knownModels: [],
  configured: (env) =>
    envValue(env, 'AZURE_API_KEY') !== undefined &&
    envValue(env, 'AZURE_RESOURCE_NAME', 'AZURE_BASE_URL') !== undefined,
  missing: (env, modelId) => {
    if (envValue(env, 'AZURE_API_KEY') === undefined) return missingKey('AZURE_API_KEY', `azure:${modelId}`);
    if (envValue(env, 'AZURE_RESOURCE_NAME', 'AZURE_BASE_URL') !== undefined) return undefined;
    return new ModelError(
      `neither AZURE_RESOURCE_NAME nor AZURE_BASE_URL is set: azure:${modelId} needs to know the resource`,
      {
        hint: 'set AZURE_RESOURCE_NAME=<name> (https://<name>.openai.azure.com), or AZURE_BASE_URL',
      },
    );
  },
  baseUrl: (env) => {
    const resource = envValue(env, 'AZURE_RESOURCE_NAME');
    return urlSetting(env, 'AZURE_BASE_URL', `https://${resource ?? 'resource'}.openai.azure.com/openai`);
  },
  createModel: async ({ modelId, env, fetch }) => {
    const { createAzure } = await import('@ai-sdk/azure');
    const baseURL =
      envValue(env, 'AZURE_BASE_URL') === undefined ? undefined : urlSetting(env, 'AZURE_BASE_URL', '');
    const resourceName = envValue(env, 'AZURE_RESOURCE_NAME');
    const apiVersion = envValue(env, 'AZURE_API_VERSION');
    return createAzure({
      apiKey: envValue(env, 'AZURE_API_KEY') ?? '',
      ...(baseURL !== undefined ? { baseURL } : resourceName !== undefined ? { resourceName } : {}),
      ...(apiVersion !== undefined ? { apiVersion } : {}),
      fetch,
    }).chat(modelId);
  },
};
