import type { CommandPolicy } from './command-policy.js';
import type { ToolCall, ToolCallDecision, ToolCallPolicy } from './tool-call-guard.js';

/**
 * Judges a tool call that stands for a shell command (`ToolCall.asShellCommand`: opsmate's file
 * tools, the URL fetch) as that command, with the session's command policy: its profile and the
 * user's rules decide, exactly as they would for the shell. A write of `/etc/hosts` is judged as
 * `tee -- /etc/hosts` (asks in `read-only`, and in `ask-destructive` for system paths), a view as
 * `cat -- /etc/hosts`, and a rule that denies everything on a host denies these calls too. Calls
 * without such a command are left to the default (read-only tools run, others ask).
 */
export class ShellEquivalentToolCallPolicy implements ToolCallPolicy {
  readonly #policy: CommandPolicy;

  constructor(policy: CommandPolicy) {
    this.#policy = policy;
  }

  async evaluateToolCall(call: ToolCall): Promise<ToolCallDecision | undefined> {
    if (call.asShellCommand === undefined) return undefined;
    // File tools act on the target's files whatever language its commands are in.
    const decision = await this.#policy.evaluate(call.asShellCommand, {
      runtime: call.runtime,
      target: call.target,
      language: 'shell',
    });
    return {
      action: decision.action,
      rule: decision.rule,
      reason: `${decision.reason} (${call.tool} is judged as the shell command: ${call.asShellCommand})`,
    };
  }
}
