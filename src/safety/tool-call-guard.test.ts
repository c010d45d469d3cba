import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { CommandReviewer, ReviewDecision, ReviewRequest } from '../runtime/command-review.js';
import { AuditLog } from './audit-log.js';
import { readAuditCommands } from './verify-audit-log.js';
import { SecretRedactor } from './secret-redactor.js';
import { ToolCallGuard, type ToolCall, type ToolCallPolicy } from './tool-call-guard.js';

const scratch = mkdtempSync(join(tmpdir(), 'opsmate-tool-guard-'));
after(() => rmSync(scratch, { recursive: true, force: true }));
let counter = 0;

/** A reviewer that answers from a script and records what it was asked. */
class ScriptedReviewer implements CommandReviewer {
  readonly label = 'scripted';
  readonly asked: ReviewRequest[] = [];
  constructor(private readonly answer: ReviewDecision) {}
  review(request: ReviewRequest): Promise<ReviewDecision> {
    this.asked.push(request);
    return Promise.resolve(this.answer);
  }
}

function setup(answer: ReviewDecision, policy?: ToolCallPolicy) {
  const path = join(scratch, `audit-${++counter}.jsonl`);
  const reviewer = new ScriptedReviewer(answer);
  const guard = new ToolCallGuard({
    reviewer,
    audit: new AuditLog(path),
    redactor: new SecretRedactor({ env: {} }),
    auditContext: () => ({ sessionId: 'session-1', instruction: 'fix it' }),
    ...(policy ? { policy } : {}),
  });
  // One object per call: its started and finished records merged, or its refused record.
  const entries = () => readAuditCommands(path);
  return { guard, reviewer, entries };
}

const call = (overrides: Partial<ToolCall> = {}): ToolCall => ({
  tool: 'WriteNote',
  arguments: { path: '/tmp/a', text: 'hi' },
  readOnly: false,
  runtime: 'local',
  target: { host: 'here' },
  ...overrides,
});

function run(guard: ToolCallGuard, toolCall: ToolCall, ran: unknown[]) {
  return guard.run<string>({
    call: toolCall,
    execute: async (args) => {
      ran.push(args);
      return 'output with password=hunter2secret';
    },
    validate: (raw) =>
      typeof (raw as { path?: unknown }).path === 'string'
        ? { ok: true, value: raw }
        : { ok: false, message: 'path must be a string' },
    mask: (value, redact) => {
      const masked = redact(value);
      return { value: masked.text, outputBytes: value.length, failed: false, redactions: masked.count };
    },
  });
}

describe('ToolCallGuard', () => {
  it('asks about a tool that may change things, runs the edited arguments, masks and audits', async () => {
    const { guard, reviewer, entries } = setup({
      action: 'edit',
      command: 'WriteNote {"path":"/tmp/b","text":"hi"}',
    });
    const ran: unknown[] = [];
    const outcome = await run(guard, call(), ran);
    assert.equal(reviewer.asked[0]?.command, 'WriteNote {"path":"/tmp/a","text":"hi"}');
    assert.match(
      reviewer.asked[0]?.reason ?? '',
      /WriteNote may change things .*\[builtin:tool-may-change-things\]/,
    );
    assert.deepEqual(ran, [{ path: '/tmp/b', text: 'hi' }]);
    assert.ok(outcome.ran && outcome.edited);
    assert.ok(outcome.ran && !outcome.value.includes('hunter2secret'), 'not masked');
    const [entry] = entries();
    assert.equal(entry?.tool, 'WriteNote');
    assert.equal(entry?.outcome, 'edited');
    assert.equal(entry?.decidedBy, 'scripted');
    assert.equal(entry?.originalCommand, 'WriteNote {"path":"/tmp/a","text":"hi"}');
    assert.equal(entry?.instruction, 'fix it');
    assert.equal(entry?.redactions, 1);
  });

  it('refuses an edit whose arguments are not valid, and runs nothing', async () => {
    const { guard, entries } = setup({ action: 'edit', command: 'WriteNote {"path": 3}' });
    const ran: unknown[] = [];
    const outcome = await run(guard, call(), ran);
    assert.deepEqual(outcome, { ran: false, reason: 'the edited call is not valid: path must be a string' });
    assert.deepEqual(ran, []);
    assert.equal(entries()[0]?.outcome, 'cancelled');
  });

  it('lets read-only tools run unasked, and a policy deny stops any call', async () => {
    const { guard, reviewer } = setup({ action: 'cancel' });
    const ran: unknown[] = [];
    assert.ok((await run(guard, call({ readOnly: true }), ran)).ran);
    assert.equal(reviewer.asked.length, 0);
    const denying = setup(
      { action: 'approve' },
      {
        evaluateToolCall: (toolCall) =>
          toolCall.tool === 'WriteNote'
            ? { action: 'deny', rule: 'file#1 no-notes', reason: 'no notes on prod' }
            : undefined,
      },
    );
    const denied = await run(denying.guard, call({ readOnly: true }), ran);
    assert.deepEqual(denied, {
      ran: false,
      reason: 'denied by policy rule file#1 no-notes: no notes on prod',
    });
    assert.equal(ran.length, 1);
    assert.equal(denying.entries()[0]?.outcome, 'denied');
  });
});

describe('ToolCallGuard with a read-only first phase (prepare)', () => {
  const prepared = (overrides: Record<string, unknown> = {}) => ({
    ok: true as const,
    plan: 'the plan',
    preview: '-old password=hunter2secret\n+new',
    files: [{ path: '/etc/app.conf', before: 'a'.repeat(64), after: 'b'.repeat(64) }],
    ...overrides,
  });
  const shellPolicy = (verdicts: Record<string, 'allow' | 'ask' | 'deny'>): ToolCallPolicy => ({
    evaluateToolCall: (toolCall) =>
      toolCall.asShellCommand && verdicts[toolCall.asShellCommand]
        ? {
            action: verdicts[toolCall.asShellCommand]!,
            rule: `rule:${toolCall.asShellCommand}`,
            reason: 'judged',
          }
        : undefined,
  });

  it('shows the masked preview to the reviewer, hands the plan to execute, and records the files', async () => {
    const { guard, reviewer, entries } = setup({ action: 'approve' });
    const seen: unknown[] = [];
    const outcome = await guard.run<string, string>({
      call: call(),
      prepare: async () => prepared(),
      execute: async (_args, plan) => {
        seen.push(plan);
        return 'written';
      },
      validate: (raw) => ({ ok: true, value: raw }),
      mask: (value) => ({
        value,
        outputBytes: 7,
        failed: false,
        redactions: 0,
        files: [{ path: '/etc/app.conf', before: 'a'.repeat(64), after: 'c'.repeat(64) }],
      }),
    });
    assert.ok(outcome.ran);
    assert.deepEqual(seen, ['the plan']);
    assert.equal(reviewer.asked[0]?.kind, 'tool-call');
    assert.match(reviewer.asked[0]?.preview ?? '', /^-old password=\[REDACTED:[\w-]+\]\n\+new$/);
    const [entry] = entries();
    // The finished record's files (what was read back) stand in the merged view.
    assert.deepEqual(entry?.files, [
      { path: '/etc/app.conf', before: 'a'.repeat(64), after: 'c'.repeat(64) },
    ]);
    assert.equal(entry?.exitCode, 0);
  });

  it('records a preparation that finds the call impossible as refused by the tool, and runs nothing', async () => {
    const { guard, reviewer, entries } = setup({ action: 'approve' });
    const ran: unknown[] = [];
    const outcome = await guard.run<string, string>({
      call: call(),
      prepare: async () => ({ ok: false, reason: 'the file changed since it was viewed' }),
      execute: async (args) => {
        ran.push(args);
        return 'x';
      },
      validate: (raw) => ({ ok: true, value: raw }),
      mask: (value) => ({ value, outputBytes: 0, failed: false, redactions: 0 }),
    });
    assert.deepEqual(outcome, { ran: false, reason: 'the file changed since it was viewed' });
    assert.deepEqual(ran, []);
    assert.equal(reviewer.asked.length, 0, 'nobody is asked about a call that cannot be done');
    const [entry] = entries();
    assert.equal(entry?.outcome, 'cancelled');
    assert.equal(entry?.decidedBy, 'tool');
    assert.equal(entry?.reason, 'the file changed since it was viewed');
  });

  it('does not prepare a call the policy denies as given, and judges the refined subject again', async () => {
    const prepares: unknown[] = [];
    const denied = setup({ action: 'approve' }, shellPolicy({ 'tee -- /etc/shadow': 'deny' }));
    const outcome = await denied.guard.run<string, string>({
      call: call({ asShellCommand: 'tee -- /etc/shadow' }),
      prepare: async (args) => {
        prepares.push(args);
        return prepared();
      },
      execute: async () => 'x',
      validate: (raw) => ({ ok: true, value: raw }),
      mask: (value) => ({ value, outputBytes: 0, failed: false, redactions: 0 }),
    });
    assert.equal(outcome.ran, false);
    assert.deepEqual(prepares, [], 'nothing is read for a call the policy denies');
    // A symlink that turns out to point at a denied file: denied after the preparation.
    const refined = setup(
      { action: 'approve' },
      shellPolicy({ 'tee -- /srv/link': 'allow', 'tee -- /srv/link /etc/shadow': 'deny' }),
    );
    const ran: unknown[] = [];
    const second = await refined.guard.run<string, string>({
      call: call({ asShellCommand: 'tee -- /srv/link' }),
      prepare: async () => prepared({ asShellCommand: 'tee -- /srv/link /etc/shadow' }),
      execute: async (args) => {
        ran.push(args);
        return 'x';
      },
      validate: (raw) => ({ ok: true, value: raw }),
      mask: (value) => ({ value, outputBytes: 0, failed: false, redactions: 0 }),
    });
    assert.deepEqual(second, {
      ran: false,
      reason: 'denied by policy rule rule:tee -- /srv/link /etc/shadow: judged',
    });
    assert.deepEqual(ran, []);
    assert.equal(refined.entries()[0]?.outcome, 'denied');
  });

  it('prepares edited arguments again, and a deny still holds for them', async () => {
    const { guard, entries } = setup(
      { action: 'edit', command: 'WriteNote {"path":"/etc/shadow","text":"x"}' },
      {
        evaluateToolCall: (toolCall) =>
          (toolCall.arguments as { path?: string }).path === '/etc/shadow'
            ? { action: 'deny', rule: 'no-shadow', reason: 'never' }
            : { action: 'ask', rule: 'writes', reason: 'writes a file' },
      },
    );
    const prepares: unknown[] = [];
    const outcome = await guard.run<string, string>({
      call: call(),
      prepare: async (args) => {
        prepares.push(args);
        return prepared();
      },
      execute: async () => 'x',
      validate: (raw) => ({ ok: true, value: raw }),
      mask: (value) => ({ value, outputBytes: 0, failed: false, redactions: 0 }),
    });
    assert.deepEqual(outcome, { ran: false, reason: 'denied by policy rule no-shadow: never' });
    assert.equal(prepares.length, 1, 'the denied edit is not prepared');
    assert.equal(entries()[0]?.outcome, 'denied');
  });
});
