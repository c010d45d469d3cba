// Red-team regression tests for the SQL policy (issue 10), findings 20-22 of
// /work/REDTEAM-FINDINGS.md. The decisions are checked directly; finding 20 is also run for real
// against PostgreSQL through the example postgres runtime (skipped with a reason when no server).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import postgresRuntime, { postgresConfigSchema } from '../../examples/runtime/postgres/src/postgres.js';
import { CommandPolicy, type PolicyProfile } from '../../src/safety/command-policy.js';
import { integrationSkip } from '../../test-support/integration.js';
import {
  createTestDatabase,
  postgresMissingReason,
  type TestDatabase,
} from '../../test-support/postgres-server.js';

const sql = { runtime: 'postgres', target: {}, language: 'sql' };
const decide = async (profile: PolicyProfile, command: string) =>
  (await new CommandPolicy({ profile }).evaluate(command, sql)).action;

const mustAsk: Array<[number, PolicyProfile[], string]> = [
  [20, ['read-only', 'ask-destructive'], "select E'\\\\'; drop table victim; --'"],
  [21, ['read-only', 'ask-destructive'], 'select U&"\\0070g_terminate_backend"(pid) from pg_stat_activity'],
  [22, ['read-only'], 'select pg_stat_reset()'],
  [22, ['read-only'], 'select pg_stat_statements_reset()'],
  [22, ['read-only'], 'select * from accounts for share nowait'],
  [22, ['read-only'], 'select * from accounts for key share'],
  [22, ['read-only'], 'select pg_try_advisory_lock(1)'],
  [22, ['read-only'], 'select pg_wal_replay_pause()'],
  [22, ['read-only'], 'select lo_create(0)'],
  [22, ['read-only'], 'set default_transaction_read_only = off'],
  [22, ['read-only'], 'set transaction read write'],
  [22, ['ask-destructive'], 'set role postgres'],
  [22, ['ask-destructive'], 'set session authorization postgres'],
];

describe('red team, SQL policy: decisions', () => {
  for (const [finding, profiles, command] of mustAsk) {
    for (const profile of profiles) {
      it(`finding ${finding} [${profile}]: does not run unasked: ${command}`, async () => {
        assert.notEqual(await decide(profile, command), 'allow');
      });
    }
  }
});

const skip = integrationSkip('PostgreSQL', postgresMissingReason());

describe('red team, SQL policy: against a real server (finding 20)', { skip }, () => {
  const databases: TestDatabase[] = [];
  const spill = mkdtempSync(join(tmpdir(), 'opsmate-redteam-pg-'));
  after(() => {
    for (const database of databases) database.drop();
    rmSync(spill, { recursive: true, force: true });
  });

  it('what the read-only profile lets through changes nothing on the server', async () => {
    const db = createTestDatabase('opsmate_redteam');
    databases.push(db);
    const runtime = postgresRuntime.create(
      postgresConfigSchema.parse({
        host: db.host,
        port: db.port,
        database: db.database,
        user: db.user,
        password: db.password,
      }),
      { spillDir: spill, outputLimitBytes: 64 * 1024 },
    );
    await runtime.connect();
    try {
      assert.equal((await runtime.run('create table victim (id int)')).exitCode, 0);
      const command = "select E'\\\\'; drop table victim; --'";
      const decision = await new CommandPolicy({ profile: 'read-only' }).evaluate(command, sql);
      // Run it only where the guard would: a command the policy lets through must be harmless.
      if (decision.action === 'allow') await runtime.run(command);
      const check = await runtime.run("select to_regclass('victim') is not null as present");
      // The runtime prints booleans as true/false (psql would print t/f).
      assert.match(
        check.stdout,
        /\b(?:t|true)\b/,
        'the table was dropped by a command the read-only profile allowed',
      );
    } finally {
      await runtime.disconnect();
    }
  });
});
