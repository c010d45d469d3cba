import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Runtime, RuntimeContext } from 'opsmate';
import { runtimeContractSuite } from 'opsmate/testing';
import { integrationSkip } from '../../../../test-support/integration.js';
import {
  createTestDatabase,
  postgresMissingReason,
  type TestDatabase,
} from '../../../../test-support/postgres-server.js';
import { FakeLlmServer, toolResultsOf } from '../../../../test-support/fake-llm/index.js';
import { runCli } from '../../../../test-support/run-cli.js';
import postgresRuntime, { postgresConfigSchema, PostgresRuntime } from '../src/postgres.js';

const skip = integrationSkip('PostgreSQL', postgresMissingReason());
const databases: TestDatabase[] = [];
after(() => {
  for (const database of databases) database.drop();
});

function database(): TestDatabase {
  const made = createTestDatabase('opsmate_pg');
  databases.push(made);
  return made;
}

function configFor(db: TestDatabase) {
  return postgresConfigSchema.parse({
    host: db.host,
    port: db.port,
    database: db.database,
    user: db.user,
    password: db.password,
  });
}

runtimeContractSuite({
  name: 'postgres (real server)',
  skip,
  create: (context) => postgresRuntime.create(configFor(database()), context),
  commands: {
    print: (text) => `select '${text}' as text`,
    fail: 'select * from opsmate_contract_no_such_table',
    slow: 'select pg_sleep(5)',
    bigOutput: (bytes) => `select repeat('a', ${bytes}) as big`,
  },
});

describe('postgres runtime (real server)', { skip }, () => {
  let runtime: PostgresRuntime;
  let context: RuntimeContext;
  let db: TestDatabase;

  before(async () => {
    db = database();
    context = { spillDir: mkdtempSync(join(tmpdir(), 'opsmate-pg-')), outputLimitBytes: 64 * 1024 };
    runtime = new PostgresRuntime(configFor(db), context);
    await runtime.connect();
  });
  after(async () => {
    await runtime?.disconnect();
    rmSync(context.spillDir, { recursive: true, force: true });
  });

  it('prints results as psql does, several statements in order, and keeps session state', async () => {
    const result = await runtime.run(
      "create temporary table items (id int, name text); insert into items values (1, 'disk'), (2, null); set application_name = 'kept'; select * from items order by id",
    );
    assert.equal(result.exitCode, 0, result.stderr);
    assert.equal(
      result.stdout,
      'CREATE\nINSERT 0 2\nSET\n id | name\n----+------\n 1  | disk\n 2  |\n(2 rows)\n',
    );
    const again = await runtime.run(
      'select current_setting($$application_name$$) as app, count(*) as n from items',
    );
    assert.match(again.stdout, /^ kept \| 2$/m);
  });

  it('reports an error with exit 1 and psql wording, and stays usable', async () => {
    const result = await runtime.run('select 1/0');
    assert.equal(result.exitCode, 1);
    assert.equal(result.stdout, '');
    assert.match(result.stderr, /^ERROR: {2}division by zero$/m);
    assert.equal((await runtime.run('select 2 as two')).exitCode, 0);
  });

  it('says who it is and what it is, and has no OS facts', async () => {
    assert.equal(await runtime.whoami(), db.user);
    assert.match(
      await runtime.runtimeInfo(),
      /^Runtime: postgres\. Commands are SQL statements run on PostgreSQL \d+/,
    );
    const asRuntime: Runtime = runtime;
    assert.equal(asRuntime.osInfo, undefined);
    assert.equal(asRuntime.hasSystemd, undefined);
    assert.equal(runtime.language.id, 'sql');
  });

  it('refuses a wrong password with one error naming the server and the flags to fix', async () => {
    const wrong = new PostgresRuntime({ ...configFor(db), password: 'wrong' }, context);
    await assert.rejects(wrong.connect(), (error: Error & { hint?: string }) => {
      assert.match(
        error.message,
        /^postgres runtime: cannot connect to 127\.0\.0\.1:\d+: password authentication failed/,
      );
      assert.match(error.hint ?? '', /--runtime-postgres-password/);
      return true;
    });
  });

  it('installs as a plugin and runs SQL through opsmate exec, with --info showing only SQL facts', async () => {
    const home = mkdtempSync(join(tmpdir(), 'opsmate-pg-cli-'));
    const env = {
      OPSMATE_HOME: home,
      RUNTIME_POSTGRES_HOST: db.host,
      RUNTIME_POSTGRES_PORT: String(db.port),
      RUNTIME_POSTGRES_DATABASE: db.database,
      RUNTIME_POSTGRES_USER: db.user,
      RUNTIME_POSTGRES_PASSWORD: db.password,
    };
    try {
      const folder = new URL('..', import.meta.url).pathname;
      const install = await runCli(['install', '-e', folder], { env });
      assert.equal(install.exitCode, 0, install.stderr);
      assert.match(
        install.stdout,
        /^Installed opsmate-runtime-postgres 0\.1\.0: runtime postgres \(editable/m,
      );
      const exec = await runCli(
        ['exec', '--shell-command-runtime', 'postgres', '--', "select 'from-cli' as answer"],
        { env },
      );
      assert.equal(exec.exitCode, 0, exec.stderr);
      assert.equal(exec.stdout, '  answer\n----------\n from-cli\n(1 row)\n');
      const failed = await runCli(['exec', '--shell-command-runtime', 'postgres', '--', 'select nope'], {
        env,
      });
      assert.equal(failed.exitCode, 1);
      assert.match(failed.stderr, /ERROR: {2}column "nope" does not exist/);
      const info = await runCli(['exec', '--shell-command-runtime', 'postgres', '--info'], { env });
      assert.equal(info.exitCode, 0, info.stderr);
      assert.match(info.stdout, /^Commands are written in: PostgreSQL SQL/m);
      // What the model is told: the user, as text from the target, inside an untrusted-data block.
      assert.match(
        info.stdout,
        new RegExp(`^User:\\n<untrusted-data [^>]*source="user">\\n${db.user}\\n`, 'm'),
      );
      assert.doesNotMatch(info.stdout, /Systemd|OS info/);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });

  it('through the agent with the fake model: a SELECT runs, a DROP TABLE is refused without a terminal, the table stays', async () => {
    const home = mkdtempSync(join(tmpdir(), 'opsmate-pg-agent-'));
    const fake = await FakeLlmServer.start();
    const env = {
      OPSMATE_HOME: home,
      RUNTIME_POSTGRES_HOST: db.host,
      RUNTIME_POSTGRES_PORT: String(db.port),
      RUNTIME_POSTGRES_DATABASE: db.database,
      RUNTIME_POSTGRES_USER: db.user,
      RUNTIME_POSTGRES_PASSWORD: db.password,
      OPENAI_BASE_URL: fake.openAiBaseUrl,
      OPENAI_API_KEY: 'sk-fake-test-key-000000000000',
    };
    const sql = (text: string) =>
      runCli(['exec', '--shell-command-runtime', 'postgres', '--', text], { env });
    try {
      const install = await runCli(['install', '-e', new URL('..', import.meta.url).pathname], { env });
      assert.equal(install.exitCode, 0, install.stderr);
      const made = await sql('create table precious (id int); insert into precious values (1), (2)');
      assert.equal(made.exitCode, 0, made.stderr);
      const statements = [
        'select count(*) as n from precious',
        'DROP TABLE precious;',
        "select 1; -- don't look\ndelete from precious",
        "select E'\\\\'; drop table precious; --'",
      ];
      fake.enqueue(
        { toolCalls: statements.map((command) => ({ name: 'ShellCommand', args: { command } })) },
        { text: 'Looked, and left it alone.' },
      );
      // No terminal: the read-only profile (the agent's default) refuses what it would ask about.
      const run = await runCli(['run', 'count and clean up', '--shell-command-runtime', 'postgres'], { env });
      assert.equal(run.exitCode, 0, run.stderr);
      const results = toolResultsOf(fake.requests.at(-1)!);
      assert.equal(results.length, statements.length);
      assert.match(results[0]!, /Exit code: 0/);
      assert.match(results[0]!, /\n n\n-+\n 2\n\(1 row\)/);
      for (const [index, result] of results.slice(1).entries())
        assert.match(result, /The command was NOT run: /, statements[index + 1]);
      const after = await sql('select count(*) as n from precious');
      assert.equal(after.exitCode, 0, `the table is gone: ${after.stderr}`);
      assert.match(after.stdout, /^ 2$/m);
      // The audit log records the refusals, judged as SQL by the read-only profile.
      const audit = readFileSync(join(home, 'audit.jsonl'), 'utf8');
      assert.match(audit, /"type":"refused"[^\n]*"command":"DROP TABLE precious;"/);
      assert.match(audit, /"profile":"read-only"/);
    } finally {
      await fake.close();
      rmSync(home, { recursive: true, force: true });
    }
  });
});
