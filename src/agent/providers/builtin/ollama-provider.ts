import { ollamaHostUrl } from '../provider-urls.js';
import { envValue, type BuiltinProvider } from './builtin-provider.js';

/**
 * The Ollama server: `OLLAMA_HOST` as Ollama reads it, or Python Opsmate's `OLLAMA_BASE_URL`
 * (often written with `/v1` or `/api`, which is dropped).
 */
function serverUrl(env: NodeJS.ProcessEnv): string {
  const host = envValue(env, 'OLLAMA_HOST');
  if (host !== undefined) return ollamaHostUrl(host);
  const base = envValue(env, 'OLLAMA_BASE_URL');
  if (base !== undefined) return ollamaHostUrl(base.replace(/\/+$/, '').replace(/\/(v1|api)$/, ''));
  return 'http://127.0.0.1:11434';
}

export const ollamaProvider: BuiltinProvider = {
  name: 'ollama',
  description:
    'Models served by a local Ollama (OLLAMA_HOST or OLLAMA_BASE_URL, default http://127.0.0.1:11434)',
  env: [
    { name: 'OLLAMA_HOST', description: 'host, host:port or URL of the Ollama server (as Ollama reads it)' },
    { name: 'OLLAMA_BASE_URL', description: "Python Opsmate's name for the server URL; OLLAMA_HOST wins" },
  ],
  baseUrlEnv: 'OLLAMA_HOST',
  defaultBaseUrl: 'http://127.0.0.1:11434',
  matches: () => false,
  knownModels: ['llama3.1:8b', 'llama3.2', 'qwen2.5:7b', 'qwen3:8b'],
  configured: (env) => envValue(env, 'OLLAMA_HOST', 'OLLAMA_BASE_URL') !== undefined,
  missing: () => undefined,
  baseUrl: (env) => `${serverUrl(env)}/api`,
  modelListUrl: (env) =>
    envValue(env, 'OLLAMA_HOST', 'OLLAMA_BASE_URL') === undefined ? undefined : `${serverUrl(env)}/api/tags`,
  createModel: async ({ modelId, env, fetch }) => {
    const { createOllama } = await import('ollama-ai-provider-v2');
    return createOllama({ baseURL: `${serverUrl(env)}/api`, fetch }).chat(modelId);
  },
};
