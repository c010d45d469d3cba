import { ConfigError } from '../../errors/opsmate-error.js';
import { cliContext } from './cli-context.js';
import type { ContextDefinition } from './context-contract.js';
import { k8sContext } from './k8s-context.js';

/** Every context opsmate ships. A new context is a file beside these plus one line here. */
export const BUILTIN_CONTEXTS: readonly ContextDefinition[] = [cliContext, k8sContext];

/** The context named by `-c/--context`; throws a ConfigError listing the known ones. */
export function requireContext(
  name: string,
  available: readonly ContextDefinition[] = BUILTIN_CONTEXTS,
): ContextDefinition {
  const found = available.find((context) => context.name === name);
  if (found) return found;
  throw new ConfigError(`unknown context "${name}"`, {
    hint: `choose one of: ${available.map((context) => context.name).join(', ')} (see \`opsmate list-contexts\`)`,
  });
}
