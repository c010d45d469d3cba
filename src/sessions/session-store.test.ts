import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError } from '../errors/opsmate-error.js';
import { SESSION_FORMAT_VERSION, type SessionRecord } from './session-record.js';
import { SessionStore } from './session-store.js';

function record(id: string, updatedAt: string): SessionRecord {
  return {
    version: SESSION_FORMAT_VERSION,
    id,
    kind: 'chat',
    createdAt: updatedAt,
    updatedAt,
    model: 'gpt-4o',
    provider: 'openai',
    modelId: 'gpt-4o',
    runtime: 'local',
    target: {},
    turns: 1,
    title: `session ${id}`,
    usage: { inputTokens: 1, outputTokens: 1, totalTokens: 2 },
    system: '',
    messages: [{ role: 'user', content: 'x'.repeat(200_000) }],
    history: [],
  };
}

describe('SessionStore', () => {
  it('lists newest first from the summary lines alone, and finds a session by id, start or suffix', () => {
    const store = new SessionStore(join(mkdtempSync(join(tmpdir(), 'wt-cfg-store-')), 'sessions'));
    store.save(record('20261201-100000-aaaa', '2026-12-01T10:00:00.000Z'));
    store.save(record('20261201-110000-bbbb', '2026-12-01T11:00:00.000Z'));
    store.save(record('20261202-090000-cccc', '2026-12-01T09:00:00.000Z'));
    writeFileSync(join(store.dir, '20261203-000000-dddd.json'), 'not a session');
    assert.deepEqual(
      store.list().map((summary) => summary.id),
      ['20261201-110000-bbbb', '20261201-100000-aaaa', '20261202-090000-cccc'],
    );
    assert.equal(store.load('bbbb').id, '20261201-110000-bbbb');
    assert.equal(store.load('20261202').id, '20261202-090000-cccc');
    assert.equal(store.latest()?.id, '20261201-110000-bbbb');
    assert.throws(
      () => store.load('20261201'),
      (error: unknown) => ConfigError.isInstance(error) && /ambiguous/.test(error.message),
    );
    assert.throws(
      () => store.load('zzzz'),
      (error: unknown) => ConfigError.isInstance(error) && /no session "zzzz"/.test(error.message),
    );
    assert.throws(
      () => store.load('dddd'),
      (error: unknown) => ConfigError.isInstance(error) && /cannot read the session file/.test(error.message),
    );
    assert.match(SessionStore.newId(new Date('2026-12-01T15:30:12Z')), /^20261201-153012-[0-9a-f]{4}$/);
  });
});
