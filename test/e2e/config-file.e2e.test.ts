import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { FakeLlmServer, toolResultsOf, type RecordedRequest } from '../../test-support/fake-llm/index.js';
import { runCliIsolated, startCliIsolated } from '../../test-support/run-cli.js';

/** A throwaway HOME whose ~/.opsmate/config.yaml holds `text` (mode 0600 unless said). */
function homeWithConfig(text: string, mode = 0o600): { home: string; opsmateHome: string; file: string } {
  const home = mkdtempSync(join(tmpdir(), 'wt-cfg-e2e-'));
  const opsmateHome = join(home, '.opsmate');
  mkdirSync(opsmateHome);
  const file = join(opsmateHome, 'config.yaml');
  writeFileSync(file, text);
  chmodSync(file, mode);
  return { home, opsmateHome, file };
}

function cli(
  args: string[],
  where: { home: string; opsmateHome?: string },
  env: Record<string, string | undefined> = {},
) {
  return runCliIsolated({
    args,
    env: { HOME: where.home, OPSMATE_HOME: where.opsmateHome ?? join(where.home, '.opsmate'), ...env },
  });
}

function configRows(stdout: string): Map<string, { value: string; from: string }> {
  const parsed = JSON.parse(stdout) as { values: Array<{ name: string; value: string; from: string }> };
  return new Map(parsed.values.map((row) => [row.name, { value: row.value, from: row.from }]));
}

describe('the config file: precedence, sources, errors', () => {
  it('flag > env > config file > default, for settings and runtime fields alike, and config show says which', async () => {
    const where = homeWithConfig(
      [
        'RUNTIME_LOCAL_CWD: /tmp',
        'OPSMATE_CONNECT_TIMEOUT: 15',
        'OPSMATE_MAX_OUTPUT_LENGTH: 4096',
        'policy:',
        '  profile: ask-destructive',
        '',
      ].join('\n'),
    );
    // The file alone moves the shell; the env beats it; the flag beats both.
    assert.equal((await cli(['exec', '--', 'pwd'], where)).stdout, '/tmp\n');
    assert.equal((await cli(['exec', '--', 'pwd'], where, { RUNTIME_LOCAL_CWD: '/usr' })).stdout, '/usr\n');
    assert.equal(
      (await cli(['exec', '--runtime-local-cwd', '/', '--', 'pwd'], where, { RUNTIME_LOCAL_CWD: '/usr' }))
        .stdout,
      '/\n',
    );
    const show = await cli(['config', 'show', '-o', 'json', '--connect-timeout', '30'], where, {
      OPSMATE_MAX_OUTPUT_LENGTH: '2048',
    });
    assert.equal(show.exitCode, 0, show.stderr);
    const rows = configRows(show.stdout);
    assert.deepEqual(rows.get('RUNTIME_LOCAL_CWD'), { value: '/tmp', from: `${where.file}:1` });
    assert.deepEqual(rows.get('OPSMATE_CONNECT_TIMEOUT'), { value: '30', from: 'flag --connect-timeout' });
    assert.deepEqual(rows.get('OPSMATE_MAX_OUTPUT_LENGTH'), {
      value: '2048',
      from: 'env OPSMATE_MAX_OUTPUT_LENGTH',
    });
    assert.deepEqual(rows.get('OPSMATE_POLICY_PROFILE'), {
      value: 'ask-destructive',
      from: `${where.file}:5 (policy.profile)`,
    });
    assert.deepEqual(rows.get('OPSMATE_AUDIT_SYNC'), { value: 'written', from: 'default' });
    // The policy profile from the file is the one commands are judged with.
    const check = await cli(['policy', 'check', 'touch /tmp/x'], where);
    assert.match(check.stdout, /^allow\nprofile: ask-destructive\n/);
    // The text form: one row per value.
    const text = await cli(['config', 'show'], where);
    assert.match(text.stdout, new RegExp(`^Config file: ${where.file} \\(default location\\)$`, 'm'));
    assert.match(text.stdout, new RegExp(`^RUNTIME_LOCAL_CWD\\s+/tmp\\s+${where.file}:1$`, 'm'));
  });

  it('config show lists the monitoring settings that are set, credentials hidden', async () => {
    const where = homeWithConfig(
      'PROMETHEUS_API_KEY: sk-prom-in-file-0123456789\nLOKI_ENDPOINT: http://loki:3100\n',
    );
    const shown = await cli(['config', 'show', '-o', 'json'], where, {
      PROMETHEUS_ENDPOINT: 'http://prometheus:9090',
      LOKI_HEADERS: 'X-Scope-OrgID: team-a; Authorization: Bearer sk-loki-header-0123456789',
    });
    assert.equal(shown.exitCode, 0, shown.stderr);
    const rows = configRows(shown.stdout);
    assert.deepEqual(rows.get('PROMETHEUS_ENDPOINT'), {
      value: 'http://prometheus:9090',
      from: 'env PROMETHEUS_ENDPOINT',
    });
    assert.deepEqual(rows.get('PROMETHEUS_API_KEY'), { value: '(set, hidden)', from: `${where.file}:1` });
    assert.deepEqual(rows.get('LOKI_ENDPOINT'), { value: 'http://loki:3100', from: `${where.file}:2` });
    assert.equal(rows.get('LOKI_HEADERS')?.value, '(set, hidden)');
    assert.equal(rows.has('ALERTMANAGER_ENDPOINT'), false, 'a setting not set is not listed');
    assert.doesNotMatch(shown.stdout, /sk-prom-in-file|sk-loki-header/);
  });

  it('lives in the home: --home and OPSMATE_HOME move it; --config and OPSMATE_CONFIG name another', async () => {
    const where = homeWithConfig('RUNTIME_LOCAL_CWD: /tmp\n');
    const elsewhere = mkdtempSync(join(tmpdir(), 'wt-cfg-e2e-other-'));
    writeFileSync(join(elsewhere, 'config.yaml'), 'RUNTIME_LOCAL_CWD: /usr\n');
    writeFileSync(join(elsewhere, 'named.yaml'), 'RUNTIME_LOCAL_CWD: /var\n');
    const noHome = { home: where.home, opsmateHome: undefined };
    assert.equal(
      (await cli(['exec', '--', 'pwd'], noHome, { OPSMATE_HOME: undefined })).stdout,
      '/tmp\n',
      '~/.opsmate',
    );
    assert.equal((await cli(['exec', '--home', elsewhere, '--', 'pwd'], where)).stdout, '/usr\n');
    assert.equal((await cli(['exec', '--', 'pwd'], where, { OPSMATE_HOME: elsewhere })).stdout, '/usr\n');
    assert.equal(
      (await cli(['exec', '--config', join(elsewhere, 'named.yaml'), '--', 'pwd'], where)).stdout,
      '/var\n',
    );
    assert.equal(
      (await cli(['exec', '--', 'pwd'], where, { OPSMATE_CONFIG: join(elsewhere, 'named.yaml') })).stdout,
      '/var\n',
    );
    const missing = await cli(['exec', '--config', join(elsewhere, 'nope.yaml'), '--', 'pwd'], where);
    assert.equal(missing.exitCode, 2);
    assert.match(
      missing.stderr,
      /^opsmate: error: the config file .*nope\.yaml does not exist\nopsmate: hint: .*--config/,
    );
    assert.equal(missing.stdout, '', 'nothing ran');
  });

  it('a bad value names the file and the line: one error line, one hint line, exit 2, nothing run', async () => {
    const marker = join(tmpdir(), `wt-cfg-must-not-exist-${process.pid}`);
    for (const [text, line, message] of [
      [
        'OPSMATE_MODEL: gpt-4o\nOPSMATE_OUTPUT_LIMIT: lots\n',
        2,
        /OPSMATE_OUTPUT_LIMIT "lots" is not valid: expected a whole number/,
      ],
      [
        'OPSMATE_AUDIT_SYNC: sometimes\n',
        1,
        /OPSMATE_AUDIT_SYNC "sometimes" is not valid: expected one of durable, written/,
      ],
      [
        'RUNTIME_LOCAL_ENV: [a, b]\n',
        1,
        /RUNTIME_LOCAL_ENV \["a","b"\] is not valid: expected NAME: value pairs, not a list/,
      ],
      ['# comment\n\nOPSMATE_CONNECT_TIMEOUT: -5\n', 3, /OPSMATE_CONNECT_TIMEOUT: Too small/],
      // YAML notices an unclosed list where the input ends.
      ['OPSMATE_MODEL: [unclosed\n', 2, /not valid YAML/],
      [
        'policy:\n  profile: yolo\n',
        2,
        /policy\.profile "yolo" is not valid: expected one of read-only, ask-destructive, allow-all/,
      ],
    ] as const) {
      const where = homeWithConfig(text);
      const run = await cli(['exec', '--', `touch ${marker}`], where);
      assert.equal(run.exitCode, 2, `${text}: ${run.stderr}`);
      const lines = run.stderr.trimEnd().split('\n');
      assert.equal(lines.length, 2, run.stderr);
      assert.match(lines[0]!, new RegExp(`^opsmate: error: ${where.file.replace(/[.]/g, '\\.')}:${line}: `));
      assert.match(lines[0]!, message);
      assert.match(lines[1]!, new RegExp(`^opsmate: hint: fix line ${line} of `));
    }
    assert.throws(() => readFileSync(marker), /ENOENT/);
  });

  it('an unknown key is an error naming the line and the name it probably meant; Python Opsmate-only keys are ignored', async () => {
    const marker = join(tmpdir(), `wt-cfg-unknown-key-${process.pid}`);
    for (const [text, line, message, hint] of [
      ['OPSMATE_MODLE: gpt-4o\n', 1, 'unknown key OPSMATE_MODLE', 'did you mean OPSMATE_MODEL?'],
      [
        'OPSMATE_CONTEXTS_DIR: /x\nRUNTIME_SSH_HOTS: db-1\n',
        2,
        'unknown key RUNTIME_SSH_HOTS',
        'did you mean RUNTIME_SSH_HOST?',
      ],
      ['polcy:\n  profile: read-only\n', 1, 'unknown key polcy', 'did you mean policy?'],
      ['policy:\n  profil: read-only\n', 2, 'policy: unknown key profil', 'did you mean profile?'],
      [
        'models:\n  o3:\n    reasoning_efort: high\n',
        3,
        'models.o3: unknown key reasoning_efort',
        'did you mean reasoning_effort?',
      ],
      // Another tool's name for a setting: the one it means, not the nearest spelling.
      [
        'PROMETHEUS_URL: http://p:9090\n',
        1,
        'unknown key PROMETHEUS_URL',
        'did you mean PROMETHEUS_ENDPOINT?',
      ],
      // exec reads the installed plugins: none provides a gce runtime, so the key is unknown.
      ['RUNTIME_GCE_ZONE: x\n', 1, 'unknown key RUNTIME_GCE_ZONE', 'remove line 1 of'],
    ] as const) {
      const where = homeWithConfig(text);
      const run = await cli(['exec', '--', `touch ${marker}`], where);
      assert.equal(run.exitCode, 2, `${text}: ${run.stderr}`);
      assert.equal(
        run.stderr.split('\n')[0],
        `opsmate: error: ${where.file}:${line}: ${message}`,
        run.stderr,
      );
      const lines = run.stderr.trimEnd().split('\n');
      assert.equal(lines.length, 2, run.stderr);
      assert.ok(lines[1]!.startsWith(`opsmate: hint: ${hint}`), run.stderr);
    }
    assert.throws(() => readFileSync(marker), /ENOENT/, 'nothing ran');
    // A command that reads no plugins cannot tell: the key may be a plugin runtime's.
    const plugin = homeWithConfig('RUNTIME_GCE_ZONE: x\n');
    assert.equal((await cli(['sessions', 'list'], plugin)).exitCode, 0);
    const opsmate = homeWithConfig('OPSMATE_DB_URL: sqlite:///x.db\nOPSMATE_EMBEDDINGS_DB_PATH: /x\n');
    const quiet = await cli(['exec', '--', 'true'], opsmate);
    assert.equal(quiet.exitCode, 0, quiet.stderr);
    assert.equal(quiet.stderr, '', 'a Python Opsmate setting is not a mistake');
    const info = await cli(['exec', '--loglevel', 'info', '--', 'true'], opsmate);
    assert.match(
      info.stderr,
      /OPSMATE_EMBEDDINGS_DB_PATH is a Python Opsmate setting opsmate does not use; ignored/,
    );
  });

  it('warns when a file that holds a secret can be read by others', async () => {
    const readable = homeWithConfig('ANTHROPIC_API_KEY: sk-ant-0123456789abcdef\n', 0o644);
    const warned = await cli(['exec', '--', 'true'], readable);
    assert.match(
      warned.stderr,
      new RegExp(
        `the config file ${readable.file} holds secrets \\(ANTHROPIC_API_KEY\\) and can be read by others \\(mode 0644\\): chmod 600`,
      ),
    );
    assert.doesNotMatch(warned.stderr, /sk-ant-/);
    const closed = homeWithConfig('ANTHROPIC_API_KEY: sk-ant-0123456789abcdef\n', 0o600);
    assert.equal((await cli(['exec', '--', 'true'], closed)).stderr, '');
    const noSecret = homeWithConfig('OPSMATE_MODEL: gpt-4o\n', 0o644);
    assert.equal((await cli(['exec', '--', 'true'], noSecret)).stderr, '');
  });

  it('takes the global options before the command too', async () => {
    const where = homeWithConfig('RUNTIME_LOCAL_CWD: /tmp\n');
    const debug = await cli(['--loglevel', 'debug', 'exec', '--', 'pwd'], where);
    assert.equal(debug.exitCode, 0, debug.stderr);
    assert.equal(debug.stdout, '/tmp\n');
    const other = mkdtempSync(join(tmpdir(), 'wt-cfg-e2e-global-'));
    writeFileSync(join(other, 'c.yaml'), 'RUNTIME_LOCAL_CWD: /usr\n');
    assert.equal(
      (await cli(['--config', join(other, 'c.yaml'), 'exec', '--', 'pwd'], where)).stdout,
      '/usr\n',
    );
    assert.equal((await cli([`--home=${other}`, 'sessions', 'list', '-o', 'json'], where)).stdout, '[]\n');
    const nested = await cli(['--loglevel', 'error', 'policy', 'check', 'ls'], where);
    assert.match(nested.stdout, /^allow\n/);
    const unknown = await cli(['--model', 'x', 'exec', '--', 'true'], where);
    assert.equal(unknown.exitCode, 2, 'only the global options may come first');
  });
});

describe('the config file and the model', () => {
  let fake: FakeLlmServer;
  before(async () => {
    fake = await FakeLlmServer.start({ apiKey: 'sk-from-the-config-file-0123456789' });
  });
  after(async () => {
    await fake.close();
  });
  beforeEach(() => {
    fake.reset();
    fake.models = ['fake-model'];
  });

  it('an API key in the file reaches the provider, stays out of opsmate’s environment, and is masked in output', async () => {
    const key = 'sk-from-the-config-file-0123456789';
    const where = homeWithConfig(
      `OPENAI_API_KEY: ${key}\nOPENAI_BASE_URL: ${fake.openAiBaseUrl}\nOPSMATE_MODEL: gpt-4o\n`,
    );
    let environ = '';
    const cliProcess = startCliIsolated({
      args: ['run', 'print the key'],
      home: where.home,
      env: { OPSMATE_HOME: where.opsmateHome },
    });
    fake.enqueue(
      () => {
        environ = readFileSync(`/proc/${cliProcess.pid}/environ`, 'utf8');
        // The model never had the key: the command puts it together from two halves.
        return {
          toolCalls: [
            {
              name: 'ShellCommand',
              args: { command: `printf '%s%s\\n' ${key.slice(0, 10)} ${key.slice(10)}` },
            },
          ],
        };
      },
      { text: 'done' },
    );
    const run = await cliProcess.done;
    assert.equal(run.exitCode, 0, run.stderr);
    assert.equal(fake.requests[0]!.headers.authorization, `Bearer ${key}`);
    assert.match(environ, /OPSMATE_HOME=/, 'read the environment of opsmate itself');
    assert.equal(environ.includes(key), false, 'the key is in no process environment');
    const [result] = toolResultsOf(fake.requests[1]!);
    assert.match(result!, /\[REDACTED:env:OPENAI_API_KEY\]/);
    assert.equal(result!.includes(key), false);
  });

  it('per-model settings reach the wire: temperature, max tokens, reasoning effort (models: and OPSMATE_MODELS_CONFIG:)', async () => {
    const keyLines = `OPENAI_API_KEY: sk-from-the-config-file-0123456789\nOPENAI_BASE_URL: ${fake.openAiBaseUrl}\n`;
    const models = homeWithConfig(
      `${keyLines}models:\n  gpt-4o:\n    temperature: 0.2\n    maxOutputTokens: 777\n  openai:o3:\n    reasoningEffort: high\n`,
    );
    fake.enqueue({ text: 'a' }, { text: 'b' });
    assert.equal((await cli(['run', '-m', 'gpt-4o', 'hi'], models)).exitCode, 0);
    assert.equal((await cli(['run', '-m', 'o3', 'hi'], models)).exitCode, 0);
    const [plain, reasoning] = fake.requests as [RecordedRequest, RecordedRequest];
    assert.equal(plain.body.temperature, 0.2);
    assert.equal(plain.body.max_tokens, 777);
    assert.equal(reasoning.body.reasoning_effort, 'high');
    assert.equal(plain.body.reasoning_effort, undefined, 'settings are per model');
    // Python Opsmate's spelling of the same section.
    const opsmate = homeWithConfig(
      `${keyLines}OPSMATE_MODELS_CONFIG:\n  o3:\n    reasoning_effort: low\n    tool_call_model: gpt-4.1\n`,
    );
    fake.enqueue({ text: 'c' });
    assert.equal((await cli(['run', '-m', 'o3', 'hi'], opsmate)).exitCode, 0);
    assert.equal(fake.requests[2]!.body.reasoning_effort, 'low');
  });

  it('Anthropic extended thinking from the file reaches the Messages API', async () => {
    const where = homeWithConfig(
      `ANTHROPIC_API_KEY: sk-from-the-config-file-0123456789\nANTHROPIC_BASE_URL: ${fake.url}\nmodels:\n  claude-sonnet-4-5:\n    thinking:\n      type: enabled\n      budget_tokens: 2048\n    max_tokens: 8000\n`,
    );
    fake.enqueue({ text: 'thought about it' });
    const run = await cli(['run', '-m', 'claude-sonnet-4-5', 'hi'], where);
    assert.equal(run.exitCode, 0, run.stderr);
    const body = fake.requests[0]!.body;
    assert.deepEqual(body.thinking, { type: 'enabled', budget_tokens: 2048 });
    assert.equal(body.max_tokens, 8000 + 2048, 'the SDK adds the thinking budget to the output limit');
  });

  it('a bad models: entry names its line and stops before any model call (exit 2)', async () => {
    const where = homeWithConfig(
      `OPENAI_BASE_URL: ${fake.openAiBaseUrl}\nmodels:\n  gpt-4o:\n    temperature: 0.1\n  o3:\n    reasoning_effort: extreme\n`,
    );
    const run = await cli(['run', '-m', 'gpt-4o', 'hi'], where);
    assert.equal(run.exitCode, 2);
    assert.match(
      run.stderr,
      new RegExp(`^opsmate: error: ${where.file}:6: models\\.o3\\.reasoning_effort: Invalid option`),
    );
    assert.match(run.stderr, /\nopsmate: hint: fix line 6 of /);
    assert.equal(fake.requests.length, 0);
  });
});
