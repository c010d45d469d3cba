import { errorMessage } from '../errors/opsmate-error.js';
import type { CommandReviewer, ReviewDecision } from '../runtime/command-review.js';
import {
  AuditError,
  type AuditDecision,
  type AuditFileChange,
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
  /**
   * The shell command this call stands for, when it has one (opsmate's file tools: a write of
   * `/etc/hosts` is `tee -- /etc/hosts`, a view is `cat -- /etc/hosts`). A {@link ToolCallPolicy}
   * may judge the call as that command, so the profile and the user's rules apply to it as they
   * would to the shell; it is never run.
   */
  asShellCommand?: string;
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
  evaluateToolCall(call: ToolCall): ToolCallDecision | undefined | Promise<ToolCallDecision | undefined>;
}

/**
 * What a call's read-only preparation found (see `prepare` in {@link ToolCallGuard.run}): the
 * plan to act on, what the reviewer is shown, and a more exact policy subject; or why the call
 * cannot be done at all (nothing was changed).
 */
export type PreparedToolCall<Plan> =
  | {
      ok: true;
      plan: Plan;
      /** Shown to the reviewer before the question, e.g. a unified diff. Masked by the guard. */
      preview?: string;
      /** Replaces the call's `asShellCommand` once the tool knows more (a symlink's real path). */
      asShellCommand?: string;
      /** Files the call will change, for the started record. */
      files?: AuditFileChange[];
    }
  | { ok: false; reason: string };

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
  /** The command policy's profile, recorded with each call. */
  profile?: string;
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
  async decide(call: ToolCall): Promise<ToolCallDecision> {
    return (await this.#options.policy?.evaluateToolCall(call)) ?? defaultToolCallDecision(call);
  }

  /**
   * Runs `execute` if the policy and the reviewer let it. `validate` checks arguments a reviewer
   * edited (returns the parsed arguments or a problem). `mask` masks the result and says how big
   * it was for the audit line.
   *
   * `prepare`, when given, is a tool's read-only first phase (a file tool reads the file and works
   * out the diff): it runs once the policy has not denied the call as given, before the review,
   * and again for arguments a reviewer edited. Its preview is shown to the reviewer, its
   * `asShellCommand` is judged again (a deny still holds), and its plan is handed to `execute`.
   * A preparation that finds the call cannot be done gets a refused record (`decidedBy: tool`).
   */
  async run<T, Plan = undefined>(options: {
    call: ToolCall;
    prepare?: (args: unknown) => Promise<PreparedToolCall<Plan>>;
    execute: (args: unknown, plan: Plan | undefined) => Promise<T>;
    validate: (raw: unknown) => { ok: true; value: unknown } | { ok: false; message: string };
    /** Masks the result (the text the model reads) and says how big it was and whether it failed. */
    mask: (
      value: T,
      redact: (text: string, options?: { keepLineCount?: boolean }) => { text: string; count: number },
    ) => {
      value: T;
      outputBytes: number;
      failed: boolean;
      redactions: number;
      /** The files as found after the call acted, for the finished record. */
      files?: AuditFileChange[];
    };
    signal?: AbortSignal;
  }): Promise<GuardedToolCall<T>> {
    const { call } = options;
    const redactor = this.#options.redactor;
    const redactShown = (text: string, redactOptions?: { keepLineCount?: boolean }) =>
      this.#options.redact === false ? { text, count: 0 } : redactor.redact(text, redactOptions);
    let decision = await this.decide(call);
    const base = () => ({
      rule: decision.rule,
      ...(decision.action !== 'allow' ? { reason: decision.reason } : {}),
    });
    const denied = (subject: ToolCall): { ran: false; reason: string } => {
      const reason = `denied by policy rule ${decision.rule}: ${decision.reason}`;
      this.#refused(subject, { ...base(), reason, outcome: 'denied', decidedBy: 'policy' });
      return { ran: false, reason };
    };
    if (decision.action === 'deny') return denied(call);
    // The read-only first phase; a more exact policy subject is judged again before anyone is asked.
    const prepareFor = async (
      subject: ToolCall,
      fields: { outcome: AuditOutcome; decidedBy: string; originalCommand?: string },
    ): Promise<
      | { ok: true; subject: ToolCall; prepared?: Extract<PreparedToolCall<Plan>, { ok: true }> }
      | { ok: false; outcome: { ran: false; reason: string } }
    > => {
      if (!options.prepare) return { ok: true, subject };
      const prepared = await options.prepare(subject.arguments);
      if (!prepared.ok) {
        this.#refused(subject, {
          ...base(),
          ...fields,
          outcome: 'cancelled',
          decidedBy: 'tool',
          reason: prepared.reason,
        });
        return { ok: false, outcome: { ran: false, reason: prepared.reason } };
      }
      const refined =
        prepared.asShellCommand !== undefined && prepared.asShellCommand !== subject.asShellCommand
          ? { ...subject, asShellCommand: prepared.asShellCommand }
          : subject;
      if (refined !== subject) {
        const again = await this.decide(refined);
        // Never less strict: the refined subject decides unless it would let through what was asked about.
        if (strictness(again.action) >= strictness(decision.action)) decision = again;
        if (decision.action === 'deny') return { ok: false, outcome: denied(refined) };
      }
      return { ok: true, subject: refined, prepared };
    };
    let subject = call;
    const first = await prepareFor(subject, { outcome: 'approved', decidedBy: 'policy' });
    if (!first.ok) return first.outcome;
    subject = first.subject;
    let prepared = first.prepared;
    let outcome: AuditOutcome = 'approved';
    let decidedBy = 'policy';
    let originalCommand: string | undefined;
    if (decision.action === 'ask' || this.#options.reviewAll) {
      const preview = prepared?.preview === undefined ? undefined : redactShown(prepared.preview).text;
      const review = await this.#review(subject, decision, options.signal, preview);
      decidedBy = (this.#options.reviewer as { label?: string }).label ?? 'reviewer';
      if (review.action === 'cancel') {
        const reason = review.reason ?? 'cancelled in review';
        this.#refused(subject, { ...base(), reason, outcome: 'cancelled', decidedBy });
        return { ran: false, reason };
      }
      if (review.action === 'edit' && review.command !== callText(subject)) {
        const edited = parseEditedCall(call.tool, review.command);
        const checked = edited.ok ? options.validate(edited.value) : edited;
        if (!checked.ok) {
          const reason = `the edited call is not valid: ${checked.message}`;
          this.#refused(subject, { ...base(), reason, outcome: 'cancelled', decidedBy });
          return { ran: false, reason };
        }
        originalCommand = callText(subject);
        outcome = 'edited';
        // The reviewer wrote it, but a deny still holds for what it now does.
        const editedCall: ToolCall = { ...call, arguments: checked.value };
        const again = await this.decide(editedCall);
        if (again.action === 'deny') {
          decision = again;
          return denied(editedCall);
        }
        const second = await prepareFor(editedCall, { outcome, decidedBy, originalCommand });
        if (!second.ok) return second.outcome;
        subject = second.subject;
        prepared = second.prepared;
      }
    }
    const args = subject.arguments;
    // Recorded before it acts; a call that cannot be recorded does not run (fail closed).
    let start: AuditStart;
    try {
      start = this.#options.audit.started(
        this.#decision(subject, {
          ...base(),
          outcome,
          decidedBy,
          ...(originalCommand !== undefined ? { originalCommand } : {}),
          ...(prepared?.files !== undefined ? { files: prepared.files } : {}),
        }),
      );
    } catch (error) {
      const message = AuditError.isInstance(error) ? error.message : errorMessage(error);
      return { ran: false, reason: `it could not be recorded in the audit log first: ${message}` };
    }
    start.durable.catch((error: unknown) => this.#options.onWarning?.(errorMessage(error)));
    const startedAt = performance.now();
    let value: T;
    try {
      value = await options.execute(args, prepared?.plan);
    } catch (error) {
      this.#finish(start, {
        exitCode: null,
        durationMs: Math.round(performance.now() - startedAt),
        outputBytes: 0,
        error: redactor.redact(errorMessage(error)).text,
      });
      throw error;
    }
    const masked = options.mask(value, redactShown);
    this.#finish(start, {
      exitCode: masked.failed ? 1 : 0,
      durationMs: Math.round(performance.now() - startedAt),
      outputBytes: masked.outputBytes,
      redactions: masked.redactions,
      ...(masked.files !== undefined ? { files: masked.files } : {}),
    });
    return { ran: true, value: masked.value, arguments: args, edited: outcome === 'edited' };
  }

  async #review(
    call: ToolCall,
    decision: ToolCallDecision,
    signal?: AbortSignal,
    preview?: string,
  ): Promise<ReviewDecision> {
    try {
      return await this.#options.reviewer.review(
        {
          command: callText(call),
          kind: 'tool-call',
          runtime: call.runtime,
          target: call.target,
          ...(decision.action === 'ask' ? { reason: `${decision.reason} [${decision.rule}]` } : {}),
          ...(preview !== undefined ? { preview } : {}),
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
      Partial<Pick<AuditDecision, 'rule' | 'reason' | 'originalCommand' | 'files'>>,
  ): AuditDecision {
    const clean = (text: string): string => this.#options.redactor.redact(text).text;
    const { sessionId, instruction } = this.#options.auditContext();
    return {
      runtime: call.runtime,
      target: Object.fromEntries(Object.entries(call.target).map(([key, value]) => [key, clean(value)])),
      ...(sessionId !== undefined ? { sessionId } : {}),
      ...(instruction !== undefined ? { instruction: clean(instruction) } : {}),
      ...(this.#options.profile !== undefined ? { profile: this.#options.profile } : {}),
      // `tool` tells a tool call from a shell command in the log.
      tool: call.tool,
      command: clean(callText(call)),
      outcome: fields.outcome,
      decidedBy: fields.decidedBy,
      ...(fields.rule !== undefined ? { rule: fields.rule } : {}),
      ...(fields.reason !== undefined ? { reason: clean(fields.reason) } : {}),
      ...(fields.originalCommand !== undefined ? { originalCommand: clean(fields.originalCommand) } : {}),
      ...(fields.files !== undefined
        ? { files: fields.files.map((file) => ({ ...file, path: clean(file.path) })) }
        : {}),
    };
  }

  #refused(
    call: ToolCall,
    fields: Pick<AuditDecision, 'outcome' | 'decidedBy'> &
      Partial<Pick<AuditDecision, 'rule' | 'reason' | 'originalCommand'>>,
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

/** deny > ask > allow. */
function strictness(action: ToolCallDecision['action']): number {
  return action === 'deny' ? 2 : action === 'ask' ? 1 : 0;
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
