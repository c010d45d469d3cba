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
import { abortingSignal } from '../process/signal-abort.js';
import {
  AuditError,
  type AuditDecision,
  type AuditLog,
  type AuditOutcome,
  type AuditStart,
} from './audit-log.js';
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
  /** Called for problems that do not stop the command, such as a result that could not be recorded. */
  onWarning?: (message: string) => void;
  /**
   * Called when a command was not run because its "started" record could not be written (the
   * model gets a not-run result saying so). Default: nothing beyond the result.
   */
  onAuditFailure?: (error: AuditError) => void;
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
  readonly #redacted = new Map<string, { text: string; count: number }>();

  /** The inner runtime's optional facts, present exactly when it has them (text masked). */
  readonly osInfo?: () => Promise<string>;
  readonly whoami?: () => Promise<string>;
  readonly hasSystemd?: () => Promise<boolean>;
  readonly services?: () => Promise<string>;

  constructor(options: GuardedRuntimeOptions) {
    this.#inner = options.runtime;
    this.#options = options;
    const inner = options.runtime;
    if (inner.osInfo) this.osInfo = async () => this.#maskText(await inner.osInfo!());
    if (inner.whoami) this.whoami = async () => this.#maskText(await inner.whoami!());
    if (inner.hasSystemd) this.hasSystemd = () => inner.hasSystemd!();
    if (inner.services) this.services = async () => this.#maskText(await inner.services!());
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

  /** Who the next commands are recorded for (session and instruction). */
  get auditContext(): AuditContext {
    return { ...this.#context };
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
    this.#options.audit.open();
    await this.#inner.connect(options);
  }

  async disconnect(): Promise<void> {
    try {
      await this.#inner.disconnect();
    } finally {
      await this.#options.audit.close();
    }
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
    return await this.#runAudited(
      {
        command: toRun,
        ...(outcome === 'edited' ? { originalCommand: command } : {}),
        outcome,
        decidedBy,
        rule: decision.rule,
        ...(decision.action !== 'allow' ? { reason: decision.reason } : {}),
      },
      options,
    );
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

  #notRun(input: {
    command: string;
    originalCommand?: string;
    decision: PolicyDecision;
    outcome: AuditOutcome;
    decidedBy: string;
    reason: string;
  }): RunResult {
    try {
      this.#options.audit.refused(
        this.#auditDecision({
          command: input.command,
          ...(input.originalCommand !== undefined ? { originalCommand: input.originalCommand } : {}),
          outcome: input.outcome,
          decidedBy: input.decidedBy,
          rule: input.decision.rule,
          reason: input.reason,
        }),
      );
    } catch (error) {
      this.#options.onWarning?.(errorMessage(error));
    }
    return notRunResult(input.command, input.reason);
  }

  /**
   * Runs a command the policy and the reviewer let through, between its "started" record (written,
   * and durable in `durable` mode, before the command is handed to the runtime) and its "finished"
   * record. When the started record cannot be written, the command does not run (fail closed).
   */
  async #runAudited(
    what: Omit<AuditDecision, 'runtime' | 'target' | 'sessionId' | 'instruction'>,
    options: RunOptions,
  ): Promise<RunResult> {
    const audit = this.#options.audit;
    let start: AuditStart;
    try {
      start = audit.started(this.#auditDecision(what));
    } catch (error) {
      const failure = AuditError.isInstance(error)
        ? error
        : new AuditError(`cannot write to the audit log ${audit.path}: ${errorMessage(error)}`);
      this.#options.onAuditFailure?.(failure);
      return notRunResult(
        what.command,
        `it could not be recorded in the audit log first: ${failure.message}`,
      );
    }
    // `written` mode syncs in the background; a failure there cannot stop the command any more.
    start.durable.catch((error: unknown) => this.#options.onWarning?.(errorMessage(error)));
    const startedAt = performance.now();
    let result: RunResult;
    try {
      result = await this.#inner.run(what.command, options);
    } catch (error) {
      this.#finish(start, {
        exitCode: null,
        durationMs: Math.round(performance.now() - startedAt),
        outputBytes: 0,
        error: this.#maskText(errorMessage(error)),
        ...signalField(options.signal),
      });
      throw error;
    }
    const shown = this.#mask(result);
    if (what.outcome === 'edited') {
      shown.notice = joinNotice(shown.notice, `the reviewer changed the command to: ${what.command}`);
    }
    this.#finish(start, {
      exitCode: result.exitCode,
      durationMs: Math.round(result.durationMs),
      outputBytes: result.stdoutBytes + result.stderrBytes,
      ...(result.timedOut ? { timedOut: true } : {}),
      ...(result.cancelled ? { cancelled: true, ...signalField(options.signal) } : {}),
      ...(result.shellExited ? { shellExited: true } : {}),
      redactions: shown.redactions,
    });
    const { redactions: _redactions, ...rest } = shown;
    return rest;
  }

  #finish(start: AuditStart, finish: Parameters<AuditLog['finished']>[1]): void {
    try {
      this.#options.audit.finished(start, finish);
    } catch (error) {
      // The command has run: its result stands, and the user is told the log lacks it.
      this.#options.onWarning?.(`the result of the command was not recorded: ${errorMessage(error)}`);
    }
  }

  #mask(result: RunResult): RunResult & { redactions: number } {
    if (this.#options.redact === false) return { ...result, redactions: 0 };
    const redactor = this.#options.redactor;
    const stdout = result.stdout === '' ? NOTHING_MASKED : redactor.redactOutput(result.stdout);
    const stderr = result.stderr === '' ? NOTHING_MASKED : redactor.redactOutput(result.stderr);
    // The working directory and the notice carry target text too (a folder name, a shell's words).
    const cwd = result.cwd === undefined ? undefined : this.#redactRepeated(result.cwd);
    const notice = result.notice === undefined ? undefined : redactor.redact(result.notice);
    const redactions = stdout.count + stderr.count + (cwd?.count ?? 0) + (notice?.count ?? 0);
    const masked: RunResult & { redactions: number } = {
      ...result,
      stdout: stdout.text,
      stderr: stderr.text,
      ...(cwd ? { cwd: cwd.text } : {}),
      ...(notice ? { notice: notice.text } : {}),
      redactions,
    };
    if (redactions > 0) {
      masked.notice = joinNotice(
        masked.notice,
        `${redactions} secret value${redactions === 1 ? '' : 's'} masked in the output`,
      );
    }
    return masked;
  }

  /**
   * Masks a short text that comes back with most commands (the working directory, the target's
   * facts, the instruction), remembering the last few answers: the guard must cost next to nothing.
   */
  #redactRepeated(text: string): { text: string; count: number } {
    const known = this.#redacted.get(text);
    if (known) return known;
    const masked = this.#options.redactor.redact(text);
    if (this.#redacted.size >= REMEMBERED_REDACTIONS) this.#redacted.clear();
    this.#redacted.set(text, masked);
    return masked;
  }

  #maskText(text: string): string {
    return this.#options.redact === false ? text : this.#options.redactor.redact(text).text;
  }

  /** The decision as the audit log keeps it: with runtime, target and context, secrets masked. */
  #auditDecision(
    record: Omit<AuditDecision, 'runtime' | 'target' | 'sessionId' | 'instruction'>,
  ): AuditDecision {
    const redactor = this.#options.redactor;
    const clean = (text: string): string => redactor.redact(text).text;
    const repeated = (text: string): string => this.#redactRepeated(text).text;
    const target = Object.fromEntries(
      Object.entries(this.#inner.target()).map(([key, value]) => [key, repeated(value)]),
    );
    const { instruction, sessionId } = this.#context;
    return {
      runtime: this.name,
      target,
      sessionId,
      profile: this.#options.policy.profile,
      ...(instruction !== undefined ? { instruction: repeated(instruction) } : {}),
      ...record,
      command: clean(record.command),
      ...(record.originalCommand !== undefined ? { originalCommand: clean(record.originalCommand) } : {}),
      ...(record.reason !== undefined ? { reason: clean(record.reason) } : {}),
    };
  }
}

const NOTHING_MASKED = { text: '', count: 0 };
/** How many short texts {@link GuardedRuntime} remembers the masked form of. */
const REMEMBERED_REDACTIONS = 64;

/** `{ signal }` when the command was stopped because opsmate received a process signal. */
function signalField(signal: AbortSignal | undefined): { signal?: string } {
  const name = abortingSignal(signal);
  return name ? { signal: name } : {};
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
