import { randomUUID } from 'node:crypto';
import { errorMessage } from '../errors/opsmate-error.js';
import {
  notRunResult,
  type CommandReviewer,
  type RememberedApproval,
  type ReviewDecision,
  type ReviewRequest,
} from '../runtime/command-review.js';
import type { CommandLanguage, Runtime, RunOptions, RunResult } from '../runtime/contract.js';
import type { AuditLog, AuditOutcome, AuditRecord } from './audit-log.js';
import {
  defaultReason,
  type CommandPolicy,
  type PolicyDecision,
  type PolicyScope,
} from './command-policy.js';
import type { SecretRedactor } from './secret-redactor.js';

/** Who, or what, approved commands, as the audit log names it. Reviewers may carry a `label`. */
interface LabelledReviewer extends CommandReviewer {
  readonly label?: string;
}

/** Who the commands are run for, for the audit log. */
export interface AuditContext {
  /** One id per opsmate session (a chat, a `run`); a random UUID unless set. */
  sessionId?: string;
  /** The user's instruction the commands serve; none for `opsmate exec`. */
  instruction?: string;
}

export interface GuardedRuntimeOptions extends AuditContext {
  runtime: Runtime;
  policy: CommandPolicy;
  /** Asked when the policy says `ask`, and for every command when `reviewAll` is set. */
  reviewer: CommandReviewer;
  /** Review every command (`-r/--review`), not only those the policy asks about. */
  reviewAll?: boolean;
  /** Where every command is recorded, run or not. */
  audit: AuditLog;
  redactor: SecretRedactor;
  /**
   * Mask secrets in what `run`, `osInfo` and `runtimeInfo` return (what the model sees).
   * Default true. The audit log is masked whatever this says.
   */
  redact?: boolean;
  /** Called for problems that do not stop the command, such as a failed audit write. */
  onWarning?: (message: string) => void;
}

/**
 * A runtime decorator that makes any runtime safe to hand to a model: each command is checked
 * against the policy, reviewed when the policy (or `--review`) asks, run in its possibly edited
 * form, masked for secrets, and recorded in the audit log. A denied or cancelled command never
 * reaches the inner runtime; its result says why, so the model can adapt.
 */
export class GuardedRuntime implements Runtime {
  readonly #inner: Runtime;
  readonly #options: GuardedRuntimeOptions;
  #context: Required<Pick<AuditContext, 'sessionId'>> & AuditContext;

  constructor(options: GuardedRuntimeOptions) {
    this.#inner = options.runtime;
    this.#options = options;
    this.#context = {
      sessionId: options.sessionId ?? randomUUID(),
      ...(options.instruction !== undefined ? { instruction: options.instruction } : {}),
    };
  }

  get name(): string {
    return this.#inner.name;
  }

  get language(): CommandLanguage | undefined {
    return this.#inner.language;
  }

  /** The policy profile commands are judged with. */
  get profile(): string {
    return this.#options.policy.profile;
  }

  /** The runtime this one guards. */
  get inner(): Runtime {
    return this.#inner;
  }

  /** The redactor for text that reaches the model by other paths (spill files); unset with `redact: false`. */
  get outputRedactor(): SecretRedactor | undefined {
    return this.#options.redact === false ? undefined : this.#options.redactor;
  }

  get sessionId(): string {
    return this.#context.sessionId;
  }

  /** Sets the session and instruction recorded with the next commands (the agent calls it per turn). */
  setAuditContext(context: AuditContext): void {
    this.#context = {
      sessionId: context.sessionId ?? this.#context.sessionId,
      ...(context.instruction !== undefined ? { instruction: context.instruction } : {}),
    };
  }

  /** What the policy says about a command here, without running or recording anything. */
  check(command: string): Promise<PolicyDecision> {
    return this.#options.policy.evaluate(command, this.#scope());
  }

  #scope(): PolicyScope {
    return {
      runtime: this.name,
      target: this.#inner.target(),
      language: this.#inner.language?.id ?? 'shell',
    };
  }

  /** "Always allow": the reviewer approved a prefix for the session, or for the policy file too. */
  #remember(remember: RememberedApproval): string | undefined {
    const policy = this.#options.policy;
    policy.allowForSession(remember.prefix, this.#scope());
    if (remember.scope !== 'policy-file') return undefined;
    try {
      const path = policy.saveAllowRule(remember.prefix, this.#scope());
      return `commands starting with "${remember.prefix}" are now allowed by ${path}`;
    } catch (error) {
      this.#options.onWarning?.(`could not save the rule: ${errorMessage(error)}`);
      return undefined;
    }
  }

  async connect(options?: { signal?: AbortSignal }): Promise<void> {
    // Fail before the first command, not after it ran, when nothing can be recorded.
    this.#options.audit.prepare();
    await this.#inner.connect(options);
  }

  disconnect(): Promise<void> {
    return this.#inner.disconnect();
  }

  async run(command: string, options: RunOptions = {}): Promise<RunResult> {
    const decision = await this.check(command);
    if (decision.action === 'deny') {
      return this.#notRun({
        command,
        decision,
        outcome: 'denied',
        decidedBy: 'policy',
        reason: denialText(decision),
      });
    }
    let toRun = command;
    let outcome: AuditOutcome = 'approved';
    let decidedBy = 'policy';
    if (decision.action === 'ask' || this.#options.reviewAll) {
      const review = await this.#review(command, decision, options.signal);
      decidedBy = (this.#options.reviewer as LabelledReviewer).label ?? 'reviewer';
      if (review.action === 'cancel') {
        return this.#notRun({
          command,
          decision,
          outcome: 'cancelled',
          decidedBy,
          reason: review.reason ?? 'cancelled in review',
        });
      }
      if (review.action === 'approve' && review.remember) this.#remember(review.remember);
      if (review.action === 'edit' && review.command !== command) {
        toRun = review.command;
        outcome = 'edited';
        const again = await this.check(toRun);
        if (again.action === 'deny') {
          return this.#notRun({
            command: toRun,
            originalCommand: command,
            decision: again,
            outcome: 'denied',
            decidedBy: 'policy',
            reason: denialText(again),
          });
        }
      }
    }
    const result = await this.#inner.run(toRun, options);
    const shown = this.#mask(result);
    if (outcome === 'edited')
      shown.notice = joinNotice(shown.notice, `the reviewer changed the command to: ${toRun}`);
    await this.#record({
      command: toRun,
      ...(outcome === 'edited' ? { originalCommand: command } : {}),
      outcome,
      decidedBy,
      rule: decision.rule,
      ...(decision.action !== 'allow' ? { reason: decision.reason } : {}),
      exitCode: result.exitCode,
      durationMs: Math.round(result.durationMs),
      outputBytes: result.stdoutBytes + result.stderrBytes,
      ...(result.timedOut ? { timedOut: true } : {}),
      ...(result.cancelled ? { cancelled: true } : {}),
      redactions: shown.redactions,
    });
    const { redactions: _redactions, ...rest } = shown;
    return rest;
  }

  async osInfo(): Promise<string> {
    return this.#maskText(await this.#inner.osInfo());
  }

  whoami(): Promise<string> {
    return this.#inner.whoami();
  }

  hasSystemd(): Promise<boolean> {
    return this.#inner.hasSystemd();
  }

  async runtimeInfo(): Promise<string> {
    return this.#maskText(await this.#inner.runtimeInfo());
  }

  target(): Record<string, string> {
    return this.#inner.target();
  }

  async #review(command: string, decision: PolicyDecision, signal?: AbortSignal): Promise<ReviewDecision> {
    const request: ReviewRequest = {
      command,
      runtime: this.name,
      target: this.#inner.target(),
      ...(decision.action === 'ask'
        ? {
            reason: isDefaultReason(decision) ? decision.reason : `${decision.reason} [${decision.rule}]`,
            ...(decision.segment !== undefined && decision.rule !== 'parser'
              ? { suggestedPrefix: decision.segment.replace(/ \(inside .*\)$/, '') }
              : {}),
          }
        : {}),
    };
    try {
      return await this.#options.reviewer.review(request, signal ? { signal } : undefined);
    } catch (error) {
      return { action: 'cancel', reason: `the review failed: ${errorMessage(error)}` };
    }
  }

  async #notRun(input: {
    command: string;
    originalCommand?: string;
    decision: PolicyDecision;
    outcome: AuditOutcome;
    decidedBy: string;
    reason: string;
  }): Promise<RunResult> {
    await this.#record({
      command: input.command,
      ...(input.originalCommand !== undefined ? { originalCommand: input.originalCommand } : {}),
      outcome: input.outcome,
      decidedBy: input.decidedBy,
      rule: input.decision.rule,
      reason: input.reason,
      exitCode: null,
      durationMs: 0,
      outputBytes: 0,
    });
    return notRunResult(input.command, input.reason);
  }

  #mask(result: RunResult): RunResult & { redactions: number } {
    if (this.#options.redact === false) return { ...result, redactions: 0 };
    const redactor = this.#options.redactor;
    const stdout = redactor.redactOutput(result.stdout);
    const stderr = redactor.redactOutput(result.stderr);
    const redactions = stdout.count + stderr.count;
    const masked = { ...result, stdout: stdout.text, stderr: stderr.text, redactions };
    if (redactions > 0) {
      masked.notice = joinNotice(
        result.notice,
        `${redactions} secret value${redactions === 1 ? '' : 's'} masked in the output`,
      );
    }
    return masked;
  }

  #maskText(text: string): string {
    return this.#options.redact === false ? text : this.#options.redactor.redact(text).text;
  }

  async #record(
    record: Omit<AuditRecord, 'runtime' | 'target' | 'sessionId' | 'instruction'>,
  ): Promise<void> {
    const redactor = this.#options.redactor;
    const clean = (text: string): string => redactor.redact(text).text;
    const target = Object.fromEntries(
      Object.entries(this.#inner.target()).map(([key, value]) => [key, clean(value)]),
    );
    const { instruction, sessionId } = this.#context;
    try {
      await this.#options.audit.append({
        runtime: this.name,
        target,
        sessionId,
        profile: this.#options.policy.profile,
        ...(instruction !== undefined ? { instruction: clean(instruction) } : {}),
        ...record,
        command: clean(record.command),
        ...(record.originalCommand !== undefined ? { originalCommand: clean(record.originalCommand) } : {}),
        ...(record.reason !== undefined ? { reason: clean(record.reason) } : {}),
      });
    } catch (error) {
      this.#options.onWarning?.(errorMessage(error));
    }
  }
}

function denialText(decision: PolicyDecision): string {
  const where = decision.segment ? ` (in: ${decision.segment})` : '';
  // A rule with no reason of its own already reads `denied by policy rule <rule>`: say it once.
  if (isDefaultReason(decision)) return `${decision.reason}${where}`;
  return `denied by policy rule ${decision.rule}: ${decision.reason}${where}`;
}

/** The decision's reason is the one a file rule gets when it gives none, which names the rule. */
function isDefaultReason(decision: PolicyDecision): boolean {
  return decision.reason === defaultReason(decision.action, decision.rule);
}

function joinNotice(notice: string | undefined, addition: string): string {
  return notice ? `${notice}; ${addition}` : addition;
}
