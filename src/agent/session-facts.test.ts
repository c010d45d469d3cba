import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SHELL_LANGUAGE } from '../runtime/contract.js';
import { describeSession, type SessionFacts } from './session-facts.js';

const facts = (overrides: Partial<SessionFacts> = {}): SessionFacts => ({
  now: new Date('2026-12-01T13:40:12.345Z'),
  toolRounds: 10,
  profile: 'read-only',
  canAsk: false,
  reviewAll: false,
  language: SHELL_LANGUAGE,
  ...overrides,
});

describe('describeSession', () => {
  it('gives the time, the budget and what happens to a change', () => {
    const text = describeSession(facts());
    assert.match(text, /^This session:\n- Current time: 2026-12-01 13:40:12 UTC\./);
    assert.match(text, /- Budget: up to 10 rounds of tool calls for this request;/);
    assert.match(
      text,
      /- Changes: only commands the policy recognises as read-only run by themselves\. Anything else .* is refused, because there is no operator to ask/,
    );
  });

  it('follows the session: one round for run, an operator to ask, other profiles, --review', () => {
    assert.match(describeSession(facts({ toolRounds: 1 })), /Budget: ONE round of tool calls/);
    assert.match(
      describeSession(facts({ canAsk: true })),
      /is shown to the operator first, who approves, edits or declines them/,
    );
    assert.match(
      describeSession(facts({ profile: 'ask-destructive' })),
      /commands run by themselves unless the policy sees them as destructive .*; those are refused/,
    );
    assert.match(
      describeSession(facts({ profile: 'allow-all' })),
      /commands and file changes run without asking/,
    );
    assert.match(
      describeSession(facts({ reviewAll: true, canAsk: true })),
      /the operator reviews every one of your commands/,
    );
    assert.match(describeSession(facts({ reviewAll: true })), /there is no terminal to ask, so nothing runs/);
    assert.match(
      describeSession(facts({ language: { id: 'sql', description: 'SQL' }, profile: 'ask-destructive' })),
      /statements run by themselves/,
    );
  });

  it("names the opsmate machine's time zone when it is not UTC", () => {
    assert.match(
      describeSession(facts({ timeZone: 'Europe/Berlin' })),
      /UTC \(the opsmate machine's time zone is Europe\/Berlin, UTC[+-]\d\d:\d\d\)/,
    );
  });
});
