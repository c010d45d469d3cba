import { ModelError } from '../model-error.js';
import { envValue, urlSetting, type BuiltinProvider } from './builtin-provider.js';

/**
 * Amazon Bedrock through its Converse API: a region, and a Bedrock API key
 * (`AWS_BEARER_TOKEN_BEDROCK`) or access keys (signed with SigV4).
 */
export const bedrockProvider: BuiltinProvider = {
  name: 'bedrock',
  description: 'Amazon Bedrock (Converse API)',
  apiKeyEnv: 'AWS_ACCESS_KEY_ID',
  env: [
    { name: 'AWS_REGION', description: 'AWS region, e.g. us-east-1', required: true },
    { name: 'AWS_ACCESS_KEY_ID', description: 'access key id (with AWS_SECRET_ACCESS_KEY)', secret: true },
    { name: 'AWS_SECRET_ACCESS_KEY', description: 'secret access key', secret: true },
    { name: 'AWS_SESSION_TOKEN', description: 'session token of temporary credentials', secret: true },
    {
      name: 'AWS_BEARER_TOKEN_BEDROCK',
      description: 'Bedrock API key (instead of access keys)',
      secret: true,
    },
    { name: 'AWS_ENDPOINT_URL_BEDROCK_RUNTIME', description: "server URL (default: the region's endpoint)" },
  ],
  baseUrlEnv: 'AWS_ENDPOINT_URL_BEDROCK_RUNTIME',
  // Converse has no "no tools" choice: without the tools, the SDK drops every toolUse and toolResult.
  keepsToolsOnLastStep: true,
  defaultBaseUrl: 'https://bedrock-runtime.us-east-1.amazonaws.com',
  // Bedrock model ids name their vendor first, with an optional cross-region prefix.
  matches: (id) =>
    /^((us|eu|apac|global)\.)?(anthropic|amazon|meta|mistral|cohere|ai21|deepseek|qwen|openai)\.[a-z0-9]/.test(
      id,
    ),
  knownModels: [
    'anthropic.claude-3-5-sonnet-20241022-v2:0',
    'us.anthropic.claude-sonnet-4-20250514-v1:0',
    'amazon.nova-pro-v1:0',
    'meta.llama3-3-70b-instruct-v1:0',
  ],
  defaultModel: 'us.anthropic.claude-sonnet-4-20250514-v1:0',
  configured: (env) =>
    envValue(env, 'AWS_BEARER_TOKEN_BEDROCK') !== undefined ||
    (envValue(env, 'AWS_ACCESS_KEY_ID') !== undefined && envValue(env, 'AWS_REGION') !== undefined),
  missing: (env, modelId) => {
    const problems: string[] = [];
    if (envValue(env, 'AWS_REGION') === undefined) problems.push('AWS_REGION is not set');
    const token = envValue(env, 'AWS_BEARER_TOKEN_BEDROCK') !== undefined;
    const keys =
      envValue(env, 'AWS_ACCESS_KEY_ID') !== undefined &&
      envValue(env, 'AWS_SECRET_ACCESS_KEY') !== undefined;
    if (!token && !keys)
      problems.push(
        'neither AWS_BEARER_TOKEN_BEDROCK nor AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are set',
      );
    if (problems.length === 0) return undefined;
    return new ModelError(`${problems.join(', and ')}: bedrock:${modelId} needs a region and credentials`, {
      hint: 'set AWS_REGION and AWS_BEARER_TOKEN_BEDROCK, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (in the environment or the config file)',
    });
  },
  baseUrl: (env) =>
    urlSetting(
      env,
      'AWS_ENDPOINT_URL_BEDROCK_RUNTIME',
      `https://bedrock-runtime.${envValue(env, 'AWS_REGION') ?? 'us-east-1'}.amazonaws.com`,
    ),
  createModel: async ({ modelId, env, fetch }) => {
    const { createAmazonBedrock } = await import('@ai-sdk/amazon-bedrock');
    const setting = (name: string): string | undefined => envValue(env, name);
    const apiKey = setting('AWS_BEARER_TOKEN_BEDROCK');
    const region = setting('AWS_REGION');
    const accessKeyId = setting('AWS_ACCESS_KEY_ID');
    const secretAccessKey = setting('AWS_SECRET_ACCESS_KEY');
    const sessionToken = setting('AWS_SESSION_TOKEN');
    const endpoint = setting('AWS_ENDPOINT_URL_BEDROCK_RUNTIME');
    return createAmazonBedrock({
      ...(region !== undefined ? { region } : {}),
      ...(apiKey !== undefined ? { apiKey } : {}),
      ...(accessKeyId !== undefined ? { accessKeyId } : {}),
      ...(secretAccessKey !== undefined ? { secretAccessKey } : {}),
      ...(sessionToken !== undefined ? { sessionToken } : {}),
      ...(endpoint !== undefined
        ? { baseURL: urlSetting(env, 'AWS_ENDPOINT_URL_BEDROCK_RUNTIME', endpoint) }
        : {}),
      fetch,
    })(modelId);
  },
};
