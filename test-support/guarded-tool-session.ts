/**
 * A tool context built the way `opsmate run` builds it, around any runtime: the runtime guarded by
 * the command policy, the tool-call guard (same policy, reviewer, audit log and masking), and the
 * built-in tools' `guardedCalls`. For tests of tools that act on the target by themselves
 * (FileEditor, FetchUrl) without going through the CLI and a model.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SpillFiles } from '../src/agent/tools/spill-files.js';
import {
  buildToolCall,
  type ToolContext,
  type ToolDefinition,
  type ToolResult,
} from '../src/agent/tools/tool-contract.js';
import { guardedCalls } from '../src/cli/agent/guarded-calls.js';
import type { CommandReviewer, ReviewDecision, ReviewRequest } from '../src/runtime/command-review.js';
import type { Runtime } from '../src/runtime/contract.js';
import { AuditLog } from '../src/safety/audit-log.js';
import { CommandPolicy, policyFileSchema, type PolicyProfile } from '../src/safety/command-policy.js';
import { GuardedRuntime } from '../src/safety/guarded-runtime.js';
import { SecretRedactor } from '../src/safety/secret-redactor.js';
import { ToolCallGuard } from '../src/safety/tool-call-guard.js';
import { ShellEquivalentToolCallPolicy } from '../src/safety/tool-call-policy.js';
import { readAuditCommands, type AuditCommandView } from '../src/safety/verify-audit-log.js';

/** A reviewer that answers from a list (the last answer repeats) and records what it was asked. */
export class ScriptedReviewer implements CommandReviewer {
  readonly label = 'scripted';
  readonly asked: ReviewRequest[] = [];
  readonly #answers: ReviewDecision[];

  constructor(...answers: ReviewDecision[]) {
    this.#answers = answers.length > 0 ? answers : [{ action: 'approve' }];
  }

  review(request: ReviewRequest): Promise<ReviewDecision> {
    this.asked.push(request);
    const answer = this.#answers.length > 1 ? this.#answers.shift()! : this.#answers[0]!;
    return Promise.resolve(answer);
  }
}

export interface GuardedToolSession {
  context: ToolContext;
  guarded: GuardedRuntime;
  reviewer: ScriptedReviewer;
  /** Validates the arguments like the agent does, then runs the tool. */
  call(tool: ToolDefinition, args: Record<string, unknown>): Promise<ToolResult>;
  /** The audit log, one entry per command or call. */
  audit(): AuditCommandView[];
  close(): Promise<void>;
}

export function guardedToolSession(options: {
  runtime: Runtime;
  profile?: PolicyProfile;
  reviewer?: ScriptedReviewer;
  maxOutputLength?: number;
  env?: NodeJS.ProcessEnv;
  /** Rules of a policy file, as its YAML would hold them. */
  rules?: unknown[];
}): GuardedToolSession {
  const home = mkdtempSync(join(tmpdir(), 'opsmate-tool-session-'));
  const auditPath = join(home, 'audit.jsonl');
  const audit = new AuditLog(auditPath);
  const redactor = new SecretRedactor({ env: options.env ?? {} });
  const reviewer = options.reviewer ?? new ScriptedReviewer({ action: 'approve' });
  const policy = new CommandPolicy({
    profile: options.profile ?? 'read-only',
    ...(options.rules ? { file: policyFileSchema.parse({ rules: options.rules }) } : {}),
  });
  const guarded = new GuardedRuntime({ runtime: options.runtime, policy, reviewer, audit, redactor });
  const guard = new ToolCallGuard({
    reviewer,
    audit,
    redactor,
    policy: new ShellEquivalentToolCallPolicy(policy),
    profile: policy.profile,
    auditContext: () => guarded.auditContext,
  });
  const context: ToolContext = {
    runtime: guarded,
    spillFiles: new SpillFiles(),
    maxOutputLength: options.maxOutputLength ?? 10_000,
    redactor,
    guardedCalls: guardedCalls({ guard, runtime: guarded }),
  };
  audit.open();
  return {
    context,
    guarded,
    reviewer,
    async call(tool, args) {
      const built = buildToolCall(tool, args);
      if (!built.ok) throw new Error(built.message);
      return await tool.execute(built.input as never, context, { signal: new AbortController().signal });
    },
    audit: () => readAuditCommands(auditPath),
    async close() {
      await guarded.disconnect();
      rmSync(home, { recursive: true, force: true });
    },
  };
}
