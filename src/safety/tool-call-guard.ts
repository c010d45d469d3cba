import { errorMessage } from '../errors/opsmate-error.js';
import type { CommandReviewer, ReviewDecision } from '../runtime/command-review.js';
import {
  AuditError,
  type AuditDecision,
  type AuditLog,
  type AuditOutcome,
  type AuditStart,
} from './audit-log.js';
import type { AuditContext } from './guarded-runtime.js';
import type { SecretRedactor } from './secret-redactor.js';

/**
 * One call of a tool that acts outside the shell (a plugin's tool, later an MCP tool), as the
 * guard sees it. The shell path has its own guard, `GuardedRuntime`.
 */
export interface ToolCall {
  /** The tool's name, e.g. `HttpCheck`. */
  tool: string;
  /** The arguments as validated against the tool's schema. */
  arguments: unknown;
  /** The tool declares that it only reads. */
  readOnly: boolean;
  /** The runtime the session works in, and its target facts, for rules and the audit log. */
  runtime: string;
  target: Record<string, string>;
  /** Where the tool comes from: `plugin <package>`, `mcp <server>`. */
  origin?: string;
}

/** What the policy says about a tool call. */
export interface ToolCallDecision {
  action: 'allow' | 'ask' | 'deny';
  /** The rule that decided, e.g. `builtin:read-only-tool`. */
  rule: string;
  /** Why, for the reviewer and the model. */
  reason: string;
}

/**
 * Decides about tool calls. The default lets read-only tools run and asks about the others; a
 * policy file's tool rules can plug in here (a decision of `undefined` falls back to the default).
 */
export interface ToolCallPolicy {
  evaluateToolCall(call: ToolCall): ToolCallDecision | undefined;
}

/** The built-in rule: tools that only read run unasked; every other call is asked about. */
export function defaultToolCallDecision(call: ToolCall): ToolCallDecision {
  if (call.readOnly) {
    return { action: 'allow', rule: 'builtin:read-only-tool', reason: `${call.tool} only reads` };
  }
  return {
    action: 'ask',
    rule: 'builtin:tool-may-change-things',
    reason: `${call.tool} may change things (it does not declare itself read-only)`,
  };
}

/** What came of a guarded call. */
export type GuardedToolCall<T> =
  { ran: true; value: T; arguments: unknown; edited: boolean } | { ran: false; reason: string };

export interface ToolCallGuardOptions {
  /** Asked when the policy says `ask`, and for every call when `reviewAll` is set. */
  reviewer: CommandReviewer;
  reviewAll?: boolean;
  audit: AuditLog;
  redactor: SecretRedactor;
  /** Mask secrets in what the model is shown (default true); the audit log is masked always. */
  redact?: boolean;
  policy?: ToolCallPolicy;
  /** The session and instruction to record, read at each call (the agent sets them per turn). */
  auditContext: () => AuditContext;
  onWarning?: (message: string) => void;
}

/**
 * The guard path for tool calls that do not go through a runtime's `run()`: the policy decides
 * (allow, ask, deny), the reviewer is asked when needed (and may edit the arguments, which are
 * validated again), the result text is masked for secrets, and the audit log records the call:
 * a started record before it acts (no record, no call) and a finished one after, or one refused
 * record. Nothing runs when the review cannot be asked (no terminal): fail closed.
 */
export class ToolCallGuard {
  readonly #options: ToolCallGuardOptions;

  constructor(options: ToolCallGuardOptions) {
    this.#options = options;
  }

  /** What the policy says about a call, without running or recording anything. */
  decide(call: ToolCall): ToolCallDecision {
    return this.#options.policy?.evaluateToolCall(call) ?? defaultToolCallDecision(call);
  }

  /**
   * Runs `execute` if the policy and the reviewer let it. `validate` checks arguments a reviewer
   * edited (returns the parsed arguments or a problem). `describe` gives the text to mask and the
   * size of the result for the audit line.
   */
  async run<T>(options: {
    call: ToolCall;
    execute: (args: unknown) => Promise<T>;
    validate: (raw: unknown) => { ok: true; value: unknown } | { ok: false; message: string };
    /** Masks the result (the text the model reads) and says how big it was and whether it failed. */
    mask: (
      value: T,
      redact: (text: string) => { text: string; count: number },
    ) => {
      value: T;
      outputBytes: number;
      failed: boolean;
      redactions: number;
    };
    signal?: AbortSignal;
  }): Promise<GuardedToolCall<T>> {
    const { call } = options;
    const decision = this.decide(call);
    const base = { rule: decision.rule, ...(decision.action !== 'allow' ? { reason: decision.reason } : {}) };
    if (decision.action === 'deny') {
      const reason = `denied by policy rule ${decision.rule}: ${decision.reason}`;
      this.#refused(call, { ...base, reason, outcome: 'denied', decidedBy: 'policy' });
      return { ran: false, reason };
    }
    let args = call.arguments;
    let outcome: AuditOutcome = 'approved';
    let decidedBy = 'policy';
    let originalCommand: string | undefined;
    if (decision.action === 'ask' || this.#options.reviewAll) {
      const review = await this.#review(call, decision, options.signal);
      decidedBy = (this.#options.reviewer as { label?: string }).label ?? 'reviewer';
      if (review.action === 'cancel') {
        const reason = review.reason ?? 'cancelled in review';
        this.#refused(call, { ...base, reason, outcome: 'cancelled', decidedBy });
        return { ran: false, reason };
      }
      if (review.action === 'edit' && review.command !== callText(call)) {
        const edited = parseEditedCall(call.tool, review.command);
        const checked = edited.ok ? options.validate(edited.value) : edited;
        if (!checked.ok) {
          const reason = `the edited call is not valid: ${checked.message}`;
          this.#refused(call, { ...base, reason, outcome: 'cancelled', decidedBy });
          return { ran: false, reason };
        }
        originalCommand = callText(call);
        args = checked.value;
        outcome = 'edited';
      }
    }
    // Recorded before it acts; a call that cannot be recorded does not run (fail closed).
    let start: AuditStart;
    try {
      start = this.#options.audit.started(
        this.#decision(
          { ...call, arguments: args },
          { ...base, outcome, decidedBy, ...(originalCommand !== undefined ? { originalCommand } : {}) },
        ),
      );
    } catch (error) {
      const message = AuditError.isInstance(error) ? error.message : errorMessage(error);
      return { ran: false, reason: `it could not be recorded in the audit log first: ${message}` };
    }
    const startedAt = performance.now();
    let value: T;
    try {
      value = await options.execute(args);
    } catch (error) {
      this.#finish(start, {
        exitCode: null,
        durationMs: Math.round(performance.now() - startedAt),
        outputBytes: 0,
        error: errorMessage(error),
      });
      throw error;
    }
    const redactor = this.#options.redactor;
    const masked = options.mask(value, (text) =>
      this.#options.redact === false ? { text, count: 0 } : redactor.redact(text),
    );
    this.#finish(start, {
      exitCode: masked.failed ? 1 : 0,
      durationMs: Math.round(performance.now() - startedAt),
      outputBytes: masked.outputBytes,
      redactions: masked.redactions,
    });
    return { ran: true, value: masked.value, arguments: args, edited: outcome === 'edited' };
  }

  async #review(call: ToolCall, decision: ToolCallDecision, signal?: AbortSignal): Promise<ReviewDecision> {
    try {
      return await this.#options.reviewer.review(
        {
          command: callText(call),
          runtime: call.runtime,
          target: call.target,
          ...(decision.action === 'ask' ? { reason: `${decision.reason} [${decision.rule}]` } : {}),
        },
        signal ? { signal } : undefined,
      );
    } catch (error) {
      return { action: 'cancel', reason: `the review failed: ${errorMessage(error)}` };
    }
  }

  #decision(
    call: ToolCall,
    fields: Pick<AuditDecision, 'outcome' | 'decidedBy'> &
      Partial<Pick<AuditDecision, 'rule' | 'reason' | 'originalCommand'>>,
  ): AuditDecision {
    const clean = (text: string): string => this.#options.redactor.redact(text).text;
    const { sessionId, instruction } = this.#options.auditContext();
    return {
      runtime: call.runtime,
      target: Object.fromEntries(Object.entries(call.target).map(([key, value]) => [key, clean(value)])),
      ...(sessionId !== undefined ? { sessionId } : {}),
      ...(instruction !== undefined ? { instruction: clean(instruction) } : {}),
      // `tool` tells a tool call from a shell command in the log.
      tool: call.tool,
      command: clean(callText(call)),
      outcome: fields.outcome,
      decidedBy: fields.decidedBy,
      ...(fields.rule !== undefined ? { rule: fields.rule } : {}),
      ...(fields.reason !== undefined ? { reason: clean(fields.reason) } : {}),
      ...(fields.originalCommand !== undefined ? { originalCommand: clean(fields.originalCommand) } : {}),
    };
  }

  #refused(
    call: ToolCall,
    fields: Pick<AuditDecision, 'outcome' | 'decidedBy'> & Partial<Pick<AuditDecision, 'rule' | 'reason'>>,
  ): void {
    try {
      this.#options.audit.refused(this.#decision(call, fields));
    } catch (error) {
      this.#options.onWarning?.(errorMessage(error));
    }
  }

  #finish(start: AuditStart, finish: Parameters<AuditLog['finished']>[1]): void {
    try {
      this.#options.audit.finished(start, finish);
    } catch (error) {
      this.#options.onWarning?.(errorMessage(error));
    }
  }
}

/** A call as one line: `HttpCheck {"url":"http://..."}`, what the reviewer sees and edits. */
export function callText(call: Pick<ToolCall, 'tool' | 'arguments'>): string {
  return `${call.tool} ${JSON.stringify(call.arguments ?? {})}`;
}

/** Reads a reviewer's edit of {@link callText}: the tool name, then the arguments as JSON. */
function parseEditedCall(
  tool: string,
  text: string,
): { ok: true; value: unknown } | { ok: false; message: string } {
  const trimmed = text.trim();
  const json = trimmed.startsWith(`${tool} `) ? trimmed.slice(tool.length + 1) : trimmed;
  try {
    return { ok: true, value: JSON.parse(json) as unknown };
  } catch (error) {
    return { ok: false, message: `write it as ${tool} {"argument": "value"}: ${errorMessage(error)}` };
  }
}
