import type { RunResult } from './contract.js';

/** What a person (or a rule) decided about a command before it runs. */
export type ReviewDecision =
  /** Run it; with `remember`, also allow commands starting with `prefix` from now on. */
  | { action: 'approve'; remember?: RememberedApproval }
  /** Run this text instead of the proposed command. */
  | { action: 'edit'; command: string }
  /** Do not run it; `reason` is told to the model. */
  | { action: 'cancel'; reason?: string };

/** "Always allow": commands starting with these words run without asking, for the session or for good. */
export interface RememberedApproval {
  /** Words a command must start with, e.g. `systemctl restart nginx`. */
  prefix: string;
  /** `session`: until opsmate exits; `policy-file`: saved as an allow rule in the policy file. */
  scope: 'session' | 'policy-file';
}

export interface ReviewRequest {
  command: string;
  /** Runtime name, e.g. `ssh`. */
  runtime: string;
  /** Facts naming the target, from `Runtime.target()`. */
  target: Record<string, string>;
  /** Why the review is asked for when it was not requested with --review, e.g. a policy rule. */
  reason?: string;
  /**
   * The part of the command that needed approval, offered as the prefix for "always allow";
   * absent when a prefix cannot be offered (a parser problem, a construct).
   */
  suggestedPrefix?: string;
  /**
   * What the call will do, shown before the question: a unified diff for a file tool's change.
   * Text from the target, masked for secrets; plain text, one line per line.
   */
  preview?: string;
  /**
   * `tool-call` for a call of a tool other than the shell (`Tool {json}`): it can be approved,
   * edited or declined, but not allowed "always" by a command prefix. Default `command`.
   */
  kind?: 'command' | 'tool-call';
}

/**
 * Asks before a command runs. The CLI supplies one that prompts on the terminal for `--review`;
 * where no terminal exists, a reviewer must decide without waiting (fail safe: cancel).
 */
export interface CommandReviewer {
  review(request: ReviewRequest, options?: { signal?: AbortSignal }): Promise<ReviewDecision>;
}

const NOT_RUN_NOTICE = 'not run: ';

/** The result reported for a command that was cancelled in review or denied: it never ran. */
export function notRunResult(command: string, reason: string): RunResult {
  return {
    command,
    exitCode: null,
    stdout: '',
    stderr: '',
    stdoutBytes: 0,
    stderrBytes: 0,
    truncated: false,
    spillFiles: {},
    timedOut: false,
    cancelled: true,
    shellExited: false,
    durationMs: 0,
    notice: `${NOT_RUN_NOTICE}${reason}`,
  };
}

/** Whether a result comes from {@link notRunResult}: the command was refused and never started. */
export function isNotRunResult(result: RunResult): boolean {
  return (
    result.exitCode === null && result.durationMs === 0 && result.notice?.startsWith(NOT_RUN_NOTICE) === true
  );
}
