import type { ToolDefinition } from '../../agent/tools/tool-contract.js';
import { ConfigError } from '../../errors/opsmate-error.js';

/**
 * The tools that can be offered with these settings: a context's default tools that say they are
 * unavailable (no PROMETHEUS_ENDPOINT) for every target's settings are left out; one named with
 * `--tools` is an error.
 */
export function availableTools<T extends { definition: ToolDefinition }>(
  tools: readonly T[],
  envs: readonly NodeJS.ProcessEnv[],
  named: boolean,
): T[] {
  const reasonFor = (tool: T): string | undefined => {
    const reasons = envs.map((env) => tool.definition.unavailable?.(env));
    return reasons.some((reason) => reason === undefined) ? undefined : reasons[0];
  };
  const reasons = new Map(tools.map((tool) => [tool, reasonFor(tool)]));
  const missing = tools.find((tool) => reasons.get(tool) !== undefined);
  if (named && missing) {
    throw new ConfigError(`tool ${missing.definition.name} is not available: ${reasons.get(missing)}`, {
      hint: `configure it (see opsmate list-tools), or leave it out of --tools (env OPSMATE_TOOLS)`,
    });
  }
  return tools.filter((tool) => reasons.get(tool) === undefined);
}
