/**
 * The names of the built-in providers, without loading their definitions: plugin validation
 * needs only the names, and runs on every start that reads plugins.
 */
export const BUILTIN_PROVIDER_NAMES = [
  'openai',
  'anthropic',
  'xai',
  'ollama',
  'google',
  'vertex',
  'bedrock',
  'azure',
  'groq',
  'mistral',
  'deepseek',
  'fireworks',
] as const;

/** The model providers built into opsmate (plugins add others). */
export type ProviderName = (typeof BUILTIN_PROVIDER_NAMES)[number];
