/**
 * Variables that hold opsmate's own credentials: model API keys, and opsmate's and the runtimes'
 * own secrets. No process opsmate starts gets them (shells, transports such as `docker exec`,
 * `kubectl` and `ssh`, side channels, npm, plugins' processes started through opsmate), unless
 * the user passes one on purpose through a runtime's `env` setting, which reaches the command
 * through the shell, not through a process environment.
 */
export const OWN_SECRET_NAME =
  /^(?:(?:OPENAI|ANTHROPIC|XAI|GROQ|GEMINI|GOOGLE_GENERATIVE_AI|GOOGLE|MISTRAL|DEEPSEEK|OPENROUTER|COHERE|TOGETHER|FIREWORKS|AZURE_OPENAI|AZURE|PERPLEXITY|HUGGINGFACE|HF|VOYAGE|CEREBRAS|OLLAMA)_API_KEY|OPSMATE_.*(?:KEY|TOKEN|SECRET|PASSWORD|PASSPHRASE)|RUNTIME_.*(?:PASSWORD|SECRET|TOKEN|PASSPHRASE))$/;

/** Whether a variable holds one of opsmate's own credentials (see {@link OWN_SECRET_NAME}). */
export function isOwnSecretName(name: string): boolean {
  return OWN_SECRET_NAME.test(name);
}

/**
 * An environment for a child process: `base` (this process's environment by default) without
 * opsmate's own secrets. Every spawn in opsmate goes through this.
 */
export function withoutOwnSecrets(base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(base)) {
    if (!isOwnSecretName(name)) env[name] = value;
  }
  return env;
}
