import { ModelError } from '../model-error.js';
import { envValue, urlSetting, type BuiltinProvider } from './builtin-provider.js';

/**
 * Gemini on Google Cloud Vertex AI: an express-mode API key (`GOOGLE_VERTEX_API_KEY`), or a
 * project and location with Application Default Credentials (`GOOGLE_APPLICATION_CREDENTIALS`,
 * or what `gcloud auth application-default login` saved).
 */
export const vertexProvider: BuiltinProvider = {
  name: 'vertex',
  description: 'Gemini on Google Cloud Vertex AI',
  apiKeyEnv: 'GOOGLE_VERTEX_API_KEY',
  env: [
    {
      name: 'GOOGLE_VERTEX_API_KEY',
      description: 'express-mode API key (instead of a project)',
      secret: true,
    },
    { name: 'GOOGLE_VERTEX_PROJECT', description: 'Google Cloud project id' },
    { name: 'GOOGLE_VERTEX_LOCATION', description: 'region, e.g. us-central1 or global' },
    {
      name: 'GOOGLE_APPLICATION_CREDENTIALS',
      description: 'service account key file (default: the gcloud application-default credentials)',
    },
    {
      name: 'GOOGLE_VERTEX_BASE_URL',
      description: 'server URL (default: derived from project and location)',
    },
  ],
  baseUrlEnv: 'GOOGLE_VERTEX_BASE_URL',
  defaultBaseUrl: 'https://aiplatform.googleapis.com',
  matches: () => false,
  knownModels: ['gemini-2.5-pro', 'gemini-2.5-flash', 'gemini-2.0-flash'],
  defaultModel: 'gemini-2.5-flash',
  configured: (env) =>
    envValue(env, 'GOOGLE_VERTEX_API_KEY') !== undefined ||
    envValue(env, 'GOOGLE_VERTEX_PROJECT') !== undefined,
  missing: (env, modelId) => {
    if (envValue(env, 'GOOGLE_VERTEX_API_KEY') !== undefined) return undefined;
    const absent = ['GOOGLE_VERTEX_PROJECT', 'GOOGLE_VERTEX_LOCATION'].filter(
      (name) => envValue(env, name) === undefined,
    );
    if (absent.length === 0) return undefined;
    return new ModelError(
      `${absent.join(' and ')} ${absent.length === 1 ? 'is' : 'are'} not set: vertex:${modelId} needs a project and a location`,
      {
        hint: 'set GOOGLE_VERTEX_PROJECT and GOOGLE_VERTEX_LOCATION (credentials from GOOGLE_APPLICATION_CREDENTIALS or gcloud), or GOOGLE_VERTEX_API_KEY for express mode',
      },
    );
  },
  baseUrl: (env) => {
    const location = envValue(env, 'GOOGLE_VERTEX_LOCATION') ?? 'global';
    const host =
      location === 'global' ? 'aiplatform.googleapis.com' : `${location}-aiplatform.googleapis.com`;
    return urlSetting(env, 'GOOGLE_VERTEX_BASE_URL', `https://${host}`);
  },
  createModel: async ({ modelId, env, fetch }) => {
    const { createVertex } = await import('@ai-sdk/google-vertex');
    const apiKey = envValue(env, 'GOOGLE_VERTEX_API_KEY');
    const baseURL =
      envValue(env, 'GOOGLE_VERTEX_BASE_URL') === undefined
        ? undefined
        : urlSetting(env, 'GOOGLE_VERTEX_BASE_URL', '');
    const keyFile = envValue(env, 'GOOGLE_APPLICATION_CREDENTIALS');
    const project = envValue(env, 'GOOGLE_VERTEX_PROJECT');
    const location = envValue(env, 'GOOGLE_VERTEX_LOCATION');
    return createVertex({
      ...(apiKey !== undefined ? { apiKey } : {}),
      ...(project !== undefined ? { project } : {}),
      ...(location !== undefined ? { location } : {}),
      ...(baseURL !== undefined ? { baseURL } : {}),
      // A key file named in the config file is not in the process environment: pass it on.
      ...(keyFile !== undefined ? { googleAuthOptions: { keyFile } } : {}),
      fetch,
    })(modelId);
  },
};
