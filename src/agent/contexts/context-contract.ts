import type { Runtime } from '../../runtime/contract.js';

/** Version tag of the context contract below. Bumped only on a breaking change. */
export const CONTEXT_SPECIFICATION_VERSION = 'opsmate.context.v1';

/** What a context may look at while it writes the system prompt. */
export interface ContextPromptOptions {
  /** Connected runtime the commands will run in. */
  runtime: Runtime;
  /** Replaces the context's own instructions (`-s/--system-prompt`); the target facts stay. */
  instructions?: string;
  /** The environment opsmate runs with, for a context's own settings (read them from here). */
  env?: NodeJS.ProcessEnv;
  /**
   * The names of the tools the model gets in this session (the context's defaults, or `--tools`),
   * so the prompt mentions only those. Absent: the context's own `tools`.
   */
  tools?: readonly string[];
  signal?: AbortSignal;
}

/**
 * A context tells the model what its job is and what it works on, and picks its default tools.
 * Opsmate's contexts: `cli` (a machine through a shell) and `k8s` (a cluster through kubectl);
 * plugins add others (`"opsmate": { "contexts": { "name": "./dist/name.js" } }`).
 */
export interface ContextDefinition {
  specificationVersion: typeof CONTEXT_SPECIFICATION_VERSION;
  /** Name used with `-c/--context`: `[a-z][a-z0-9-]*`, not a built-in's or another plugin's. */
  name: string;
  /** One line for `opsmate list-contexts`. */
  description: string;
  /**
   * Names of the tools the model gets when `--tools` is not given (built-in tools or tools of
   * installed plugins), e.g. `['ShellCommand', 'ReadSpilledOutput']`.
   */
  tools: readonly string[];
  /**
   * The system prompt. Called once per session, after the runtime connected. May run commands
   * through the runtime (they are guarded and audited like the model's) to learn about the
   * target; should include `formatTargetFacts(await gatherTargetFacts(runtime))` so the model
   * knows where it works. Rejecting stops the command with the error, naming the plugin.
   */
  systemPrompt(options: ContextPromptOptions): Promise<string>;
}

/** Declares a context. An identity function that exists for type inference. */
export function defineContext(
  definition: Omit<ContextDefinition, 'specificationVersion'>,
): ContextDefinition {
  return { ...definition, specificationVersion: CONTEXT_SPECIFICATION_VERSION };
}
