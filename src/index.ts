// The public API of opsmate, for plugin authors and programs that embed it.
// zod is re-exported so a plugin can build its config schema with the same copy opsmate uses.
export { z } from 'zod';
export {
  defineRuntime,
  RUNTIME_SPECIFICATION_VERSION,
  SHELL_LANGUAGE,
  type CommandLanguage,
  type Runtime,
  type RuntimeContext,
  type RuntimeDefinition,
  type RuntimeUriForm,
  type RuntimeDiscovery,
  type DiscoveredTarget,
  type RunOptions,
  type RunResult,
  type OutputChunk,
} from './runtime/contract.js';
export { RuntimeRegistry, validateDefinition, type RegisteredRuntime } from './runtime/runtime-registry.js';
export { ShellRuntime, NON_INTERACTIVE_ENV, type ShellRuntimeOptions } from './runtime/shell-runtime.js';
export {
  ShellSession,
  type ShellExit,
  type ShellSessionOptions,
  type ShellTransport,
} from './runtime/shell-session/shell-session.js';
export { shellQuote, shellJoin } from './runtime/shell-session/shell-quote.js';
export { gatherTargetFacts, formatTargetFacts, type TargetFacts } from './runtime/target-facts.js';
export { co, type CoOptions, type CoResult } from './process/child-process.js';
export { OpsmateError, RuntimeError, ConfigError, type OpsmateErrorOptions } from './errors/opsmate-error.js';
export { stringMap, stringList, envVarMap } from './config/schema-fields.js';
export { localRuntime } from './runtimes/local/local-runtime.js';
export {
  CommandRuntime,
  DEFAULT_COMMAND_RUNTIME_TIMEOUT_MS,
  type CommandExecution,
  type CommandOutcome,
  type CommandRuntimeOptions,
} from './runtime/command-runtime/command-runtime.js';
export {
  RunResultBuilder,
  type RunEnding,
  type RunResultBuilderOptions,
} from './runtime/command-runtime/run-result-builder.js';
export {
  runWithLimits,
  DEFAULT_STOP_GRACE_MS,
  type Interruption,
  type RunControl,
  type RunLimitsOptions,
  type RunLimitsOutcome,
} from './runtime/command-runtime/run-limits.js';
export { SerialQueue } from './runtime/command-runtime/serial-queue.js';
export {
  defineTool,
  TOOL_SPECIFICATION_VERSION,
  type ToolCallOptions,
  type ToolContext,
  type ToolDefinition,
  type ToolDescriptionOptions,
  type ToolDisplay,
  type ToolResult,
} from './agent/tools/tool-contract.js';
export { validateToolDefinition } from './agent/tools/builtin-tools.js';
export { wrapUntrusted } from './agent/tools/untrusted-text.js';
export {
  defineContext,
  CONTEXT_SPECIFICATION_VERSION,
  type ContextDefinition,
  type ContextPromptOptions,
} from './agent/contexts/context-contract.js';
export { validateContextDefinition } from './agent/contexts/builtin-contexts.js';
export {
  defineProvider,
  openAiCompatibleModel,
  PROVIDER_SPECIFICATION_VERSION,
  type ProviderDefinition,
  type ProviderEnvVar,
  type ProviderModelOptions,
} from './agent/providers/provider-contract.js';
export { validateProviderDefinition } from './agent/providers/provider-registry.js';
export { PLUGIN_SPECIFICATION_VERSION, PLUGIN_KINDS, type PluginKind } from './plugins/plugin-manifest.js';
export { sshRuntime, sshConfigSchema, type SshConfig } from './runtimes/ssh/ssh-runtime.js';
