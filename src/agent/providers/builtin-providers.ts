import { anthropicProvider } from './builtin/anthropic-provider.js';
import { azureProvider } from './builtin/azure-provider.js';
import { bedrockProvider } from './builtin/bedrock-provider.js';
import type { BuiltinProvider } from './builtin/builtin-provider.js';
import { deepseekProvider } from './builtin/deepseek-provider.js';
import { fireworksProvider } from './builtin/fireworks-provider.js';
import { googleProvider } from './builtin/google-provider.js';
import { groqProvider } from './builtin/groq-provider.js';
import { mistralProvider } from './builtin/mistral-provider.js';
import { ollamaProvider } from './builtin/ollama-provider.js';
import { openaiProvider } from './builtin/openai-provider.js';
import { vertexProvider } from './builtin/vertex-provider.js';
import { xaiProvider } from './builtin/xai-provider.js';

/**
 * The built-in providers, in the order a default model is looked for when `-m` is not given
 * (the first one the environment configures). A new provider is a file in builtin/ plus one
 * line here. No SDK is loaded by this list.
 */
export const BUILTIN_PROVIDERS: readonly BuiltinProvider[] = [
  openaiProvider,
  anthropicProvider,
  googleProvider,
  xaiProvider,
  mistralProvider,
  deepseekProvider,
  groqProvider,
  fireworksProvider,
  azureProvider,
  bedrockProvider,
  vertexProvider,
  ollamaProvider,
];
