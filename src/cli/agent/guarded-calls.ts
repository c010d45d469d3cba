import type { GuardedCalls, TargetAccess } from '../../agent/tools/tool-contract.js';
import type { GuardedRuntime } from '../../safety/guarded-runtime.js';
import type { ToolCallGuard } from '../../safety/tool-call-guard.js';

/**
 * The {@link GuardedCalls} of a session: each call of a built-in tool that acts on the target by
 * itself (FileEditor, FetchUrl) is judged, reviewed, recorded and masked once by the tool-call
 * guard, and only then gets the runtime beneath the shell guard for its own fixed scripts, so
 * those scripts are neither judged as shell commands nor recorded one by one. An MCP server or
 * any other front end that offers these tools builds its tool context with this too.
 */
export function guardedCalls(options: { guard: ToolCallGuard; runtime: GuardedRuntime }): GuardedCalls {
  const { guard, runtime } = options;
  return {
    run: (request) => {
      const access: TargetAccess = { runtime: runtime.inner, signal: request.signal };
      return guard.run({
        call: {
          tool: request.tool,
          arguments: request.arguments,
          readOnly: request.readOnly,
          runtime: runtime.name,
          target: runtime.target(),
          origin: 'opsmate',
          ...(request.asShellCommand !== undefined ? { asShellCommand: request.asShellCommand } : {}),
        },
        signal: request.signal,
        validate: request.validate,
        ...(request.prepare ? { prepare: (args: unknown) => request.prepare!(args, access) } : {}),
        execute: (args, plan) => request.execute(args, plan, access),
        mask: request.mask,
      });
    },
  };
}
