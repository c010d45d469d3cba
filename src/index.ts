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
export { stringMap, stringList } from './config/schema-fields.js';
export { localRuntime } from './runtimes/local/local-runtime.js';
export { PLUGIN_SPECIFICATION_VERSION, PLUGIN_KINDS, type PluginKind } from './plugins/plugin-manifest.js';
export { sshRuntime, sshConfigSchema, type SshConfig } from './runtimes/ssh/ssh-runtime.js';
