import { earlyOption, wantsHelp } from '../../cli/early-argv.js';
import { withoutOwnSecrets } from '../../process/child-environment.js';
import { startEarlyShell } from '../../runtime/shell-session/early-shell.js';

/** The local runtime's shell when none is set (its `shell` field's default). */
export const DEFAULT_LOCAL_SHELL = '/bin/bash';

/**
 * For `opsmate exec` on the local runtime: starts the session shell the local runtime will want,
 * as far as argv and the env tell, before the CLI's modules load (see early-shell.ts). A guess
 * that turns out wrong (the config file chose another runtime or shell) only costs a shell that
 * is killed unused: the engine takes an early shell only when it is exactly the one it would start.
 */
export function startLocalShellEarly(argv: readonly string[], env: NodeJS.ProcessEnv): void {
  if (wantsHelp(argv)) return;
  const runtime = earlyOption(argv, '--shell-command-runtime') ?? env.SHELL_COMMAND_RUNTIME ?? 'local';
  if (runtime !== 'local' || earlyOption(argv, '--target', 't') !== undefined) return;
  const shell = earlyOption(argv, '--runtime-local-shell') ?? env.RUNTIME_LOCAL_SHELL ?? DEFAULT_LOCAL_SHELL;
  startEarlyShell({ argv: [shell], env: withoutOwnSecrets(process.env) });
}
