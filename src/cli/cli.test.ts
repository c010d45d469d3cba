import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { runCli } from '../../test-support/run-cli.js';

const home = mkdtempSync(join(tmpdir(), 'opsmate-cli-home-'));
const env = { OPSMATE_HOME: home };
after(() => rmSync(home, { recursive: true, force: true }));

function assertOneLineError(stderr: string): void {
  assert.doesNotMatch(stderr, /^\s+at /m, 'a stack trace was printed');
  assert.match(stderr, /^opsmate: error: /m);
}

describe('opsmate CLI basics', () => {
  it('prints its version and help', async () => {
    const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    const version = await runCli(['--version'], { env });
    assert.equal(version.stdout.trim(), manifest.version);
    const help = await runCli(['--help'], { env });
    assert.equal(help.exitCode, 0);
    assert.match(help.stdout, /exec/);
    assert.match(help.stdout, /list-runtimes/);
  });

  it('lists runtimes as plain text when piped', async () => {
    const result = await runCli(['list-runtimes'], { env });
    assert.equal(result.exitCode, 0);
    assert.match(result.stdout, /^Name\s+Description/);
    assert.match(result.stdout, /^local\s+Runs commands on this machine/m);
    assert.doesNotMatch(result.stdout, /[┏│]/);
  });

  it('shows runtime options grouped per runtime with env names and defaults', async () => {
    const result = await runCli(['exec', '--help'], { env });
    assert.match(result.stdout, /Runtime options: local/);
    assert.match(
      result.stdout,
      /--runtime-local-shell <TEXT>[\s\S]*?\(env:\s+RUNTIME_LOCAL_SHELL\)\s+\[default:\s+\/bin\/bash\]/,
    );
    assert.match(result.stdout, /--shell-command-runtime[\s\S]*?SHELL_COMMAND_RUNTIME/);
  });
});

describe('opsmate exec', () => {
  it('exits with the command exit code and keeps stdout and stderr apart', async () => {
    const result = await runCli(['exec', '--', 'echo out; echo err >&2; exit 7'], { env });
    assert.equal(result.exitCode, 7);
    assert.equal(result.stdout, 'out\n');
    assert.equal(result.stderr, 'err\n');
    assert.equal((await runCli(['exec', '--', 'false'], { env })).exitCode, 1);
    assert.equal((await runCli(['exec', 'test', '2', '-gt', '1'], { env })).exitCode, 0);
  });

  it('exits 124 on timeout and says so', async () => {
    const result = await runCli(['exec', '--timeout', '1', '--', 'echo started; sleep 30'], { env });
    assert.equal(result.exitCode, 124);
    assert.equal(result.stdout, 'started\n');
    assert.match(result.stderr, /timed out after 1s/);
  });

  it('writes no colour codes into a pipe, even when CI is set', async () => {
    const result = await runCli(['exec', '--timeout', '1', '--', 'sleep 5'], { env: { ...env, CI: 'true' } });
    assert.match(result.stderr, /warn: timed out/);
    assert.equal(result.stderr.includes('\u001b['), false, 'colour codes in a pipe');
  });

  it('reads the command from stdin with -', async () => {
    const result = await runCli(['exec', '-'], { env, input: 'x=41\necho $((x + 1))\n' });
    assert.equal(result.stdout, '42\n');
  });

  it('prints what the model will be told about the target with --info', async () => {
    const result = await runCli(['exec', '--info'], { env });
    assert.equal(result.exitCode, 0);
    // Exactly what the model gets: each fact from the target wrapped as untrusted data.
    assert.match(
      result.stdout,
      /^Runtime info:\n<untrusted-data id="\w+" source="runtime-info">\nRuntime: local\./,
    );
    assert.match(result.stdout, /^User:\n<untrusted-data id="\w+" source="user">\n\S+\n<\/untrusted-data/m);
    assert.match(result.stdout, /^Systemd: (yes|no)$/m);
    assert.match(result.stdout, /^OS info:\n<untrusted-data id="\w+" source="os-info">\n(Linux|Darwin)/m);
  });

  it('hides opsmate secrets from commands unless passed explicitly', async () => {
    const hidden = await runCli(
      ['exec', '--', 'echo "${OPENAI_API_KEY:-unset} ${ANTHROPIC_API_KEY:-unset}"'],
      {
        env: { ...env, OPENAI_API_KEY: 'sk-test-secret', ANTHROPIC_API_KEY: 'sk-ant-secret' },
      },
    );
    assert.equal(hidden.stdout, 'unset unset\n');
    const explicit = await runCli(
      ['exec', '--runtime-local-env', 'OPENAI_API_KEY=given', '--', 'echo "$OPENAI_API_KEY"'],
      { env: { ...env, OPENAI_API_KEY: 'sk-test-secret' } },
    );
    assert.equal(explicit.stdout, 'given\n');
  });

  it("keeps opsmate's keys out of the environment of the shell's parent ($PPID)", async () => {
    // The session shell's parent is opsmate's supervisor process, started with a scrubbed
    // environment; opsmate itself is further up (docs/safety.md says what remains).
    const result = await runCli(
      ['exec', '--', 'tr "\\0" "\\n" < /proc/$PPID/environ; echo; tr "\\0" " " < /proc/$PPID/cmdline'],
      { env: { ...env, OPENAI_API_KEY: 'sk-test-secret-ppid' } },
    );
    assert.equal(result.exitCode, 0, result.stderr);
    assert.match(result.stdout, /^PATH=/m, 'did not read the environment');
    assert.equal(result.stdout.includes('sk-test-secret-ppid'), false, result.stdout);
    // Only the command line: under `npm test` PATH holds node_modules/.bin, which says "node".
    const commandLine = result.stdout.trim().split('\n').at(-1) ?? '';
    assert.doesNotMatch(commandLine, /node|opsmate\.js/, 'the parent is opsmate itself');
  });

  it('uses flag over env over default for runtime options', async () => {
    const fromEnv = await runCli(['exec', '--', 'pwd'], { env: { ...env, RUNTIME_LOCAL_CWD: '/tmp' } });
    assert.equal(fromEnv.stdout, '/tmp\n');
    const fromFlag = await runCli(['exec', '--runtime-local-cwd', '/', '--', 'pwd'], {
      env: { ...env, RUNTIME_LOCAL_CWD: '/tmp' },
    });
    assert.equal(fromFlag.stdout, '/\n');
  });

  it('refuses a working directory that does not exist instead of running elsewhere', async () => {
    const result = await runCli(['exec', '--', 'pwd'], {
      env: { ...env, RUNTIME_LOCAL_CWD: '/nonexistent-opsmate-dir' },
    });
    assert.notEqual(result.exitCode, 0);
    assert.equal(result.stdout, '');
    assertOneLineError(result.stderr);
    assert.match(result.stderr, /nonexistent-opsmate-dir: No such file or directory/);
  });

  it('rejects a bad value before connecting, naming the flag and env var', async () => {
    const result = await runCli(['exec', '--', 'true'], { env: { ...env, RUNTIME_LOCAL_ENV: 'novalue' } });
    assert.equal(result.exitCode, 2);
    assertOneLineError(result.stderr);
    assert.match(result.stderr, /RUNTIME_LOCAL_ENV "novalue" is not valid/);
    assert.match(result.stderr, /--runtime-local-env/);
    const badTimeout = await runCli(['exec', '--timeout', 'soon', '--', 'true'], { env });
    assert.equal(badTimeout.exitCode, 2);
    assertOneLineError(badTimeout.stderr);
  });

  it('fails clearly on a missing shell, an unknown runtime and an unknown flag', async () => {
    const shell = await runCli(['exec', '--runtime-local-shell', '/nonexistent/zsh', '--', 'true'], { env });
    assert.notEqual(shell.exitCode, 0);
    assertOneLineError(shell.stderr);
    assert.match(shell.stderr, /\/nonexistent\/zsh does not exist/);
    const runtime = await runCli(['exec', '--shell-command-runtime', 'nope', '--', 'true'], { env });
    assert.equal(runtime.exitCode, 2);
    assert.match(runtime.stderr, /unknown runtime "nope"/);
    assert.match(runtime.stderr, /local/);
    const flag = await runCli(['exec', '--no-such-flag'], { env });
    assert.equal(flag.exitCode, 2);
    assert.match(flag.stderr, /unknown option/);
  });

  it('accepts the plugin folder wherever runtimes are named', async () => {
    const plugins = join(home, 'plugins');
    const policy = await runCli(['policy', 'check', '--plugins-dir', plugins, 'ls'], { env });
    assert.equal(policy.exitCode, 0, policy.stderr);
    assert.match(policy.stdout, /^allow$/m);
    const runtimes = await runCli(['list-runtimes', '--plugins-dir', plugins], { env });
    assert.equal(runtimes.exitCode, 0, runtimes.stderr);
  });

  it('shows a stack trace only with --loglevel debug', async () => {
    const quiet = await runCli(['exec', '--runtime-local-shell', '/nonexistent/zsh', '--', 'true'], { env });
    assert.doesNotMatch(quiet.stderr, /^\s+at /m);
    const debug = await runCli(
      ['exec', '--loglevel', 'debug', '--runtime-local-shell', '/nonexistent/zsh', '--', 'true'],
      { env },
    );
    assert.match(debug.stderr, /^\s+at /m);
  });
});
