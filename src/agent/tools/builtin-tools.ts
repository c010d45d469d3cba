import { ConfigError } from '../../errors/opsmate-error.js';
import { readSpilledOutputTool } from './read-spilled-output/read-spilled-output-tool.js';
import { shellCommandTool } from './shell-command/shell-command-tool.js';
import type { ToolDefinition } from './tool-contract.js';

/** Every tool opsmate ships. A new tool is a folder beside these plus one line here. */
export const BUILTIN_TOOLS: readonly ToolDefinition[] = [
  shellCommandTool as unknown as ToolDefinition,
  readSpilledOutputTool as unknown as ToolDefinition,
];

/** The tools named by `--tools`, in order; throws a ConfigError naming an unknown one. */
export function selectTools(
  names: readonly string[],
  available: readonly ToolDefinition[] = BUILTIN_TOOLS,
): ToolDefinition[] {
  return names.map((name) => {
    const tool = available.find((candidate) => candidate.name.toLowerCase() === name.toLowerCase());
    if (!tool) {
      throw new ConfigError(`unknown tool "${name}"`, {
        hint: `choose from ${available.map((candidate) => candidate.name).join(', ')} (see \`opsmate list-tools\`)`,
      });
    }
    return tool;
  });
}
