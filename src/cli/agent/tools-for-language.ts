import type { ToolDefinition } from '../../agent/tools/tool-contract.js';
import { ConfigError } from '../../errors/opsmate-error.js';

/**
 * The tools that work with the runtime's command language: a context's default tools that do
 * not (FileEditor on a SQL runtime) are left out; one named with `--tools` is an error.
 */
export function toolsForLanguage<T extends { definition: ToolDefinition }>(
  tools: readonly T[],
  language: string,
  named: boolean,
): T[] {
  const fits = (tool: T): boolean =>
    !tool.definition.languages || tool.definition.languages.includes(language);
  const misfit = tools.find((tool) => !fits(tool));
  if (named && misfit) {
    throw new ConfigError(
      `tool ${misfit.definition.name} does not work with this runtime: it needs ${misfit.definition.languages!.join(' or ')} commands, and the runtime's are ${language}`,
      { hint: 'leave it out of --tools (env OPSMATE_TOOLS)' },
    );
  }
  return tools.filter(fits);
}
