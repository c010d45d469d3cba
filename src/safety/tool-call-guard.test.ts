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
