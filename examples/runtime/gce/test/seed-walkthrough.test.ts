// The seed article "integrate with a new runtime", steps 4 to 7, done literally with the built CLI:
// install the GCE plugin with `opsmate install -e .`, see it in list-runtimes and in the help, run a
// command through it, uninstall it. No Google Cloud here: a stand-in `gcloud` on PATH forwards
// `gcloud compute ssh` to a loopback sshd (see stand-in-gcloud.ts). Then the same from a tarball.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { integrationSkip } from '../../../../test-support/integration.js';
import { runCli, type CliResult } from '../../../../test-support/run-cli.js';
import { sshdMissingReason, startSshd, type SshdServer } from '../../../../test-support/sshd-server.js';
import { STAND_IN_INSTANCE, writeStandInGcloud, type StandInGcloud } from './stand-in-gcloud.js';

const exampleDir = fileURLToPath(new URL('..', import.meta.url));

/** Every option the GCE runtime must add: flag suffix, env var, default shown in help. */
const GCE_OPTIONS: Array<[flag: string, env: string, shown: string]> = [
  ['instance', 'RUNTIME_GCE_INSTANCE', '[required]'],
  ['zone', 'RUNTIME_GCE_ZONE', '[default: ""]'],
  ['project', 'RUNTIME_GCE_PROJECT', '[default: ""]'],
  ['username', 'RUNTIME_GCE_USERNAME', '[default: ""]'],
  ['use-iap', 'RUNTIME_GCE_USE_IAP', '[default: true]'],
  ['iap-options', 'RUNTIME_GCE_IAP_OPTIONS', '[default: ""]'],
  ['shell', 'RUNTIME_GCE_SHELL', '[default: /bin/bash]'],
  ['timeout', 'RUNTIME_GCE_TIMEOUT', '[default: 120]'],
  ['connect-retries', 'RUNTIME_GCE_CONNECT_RETRIES', '[default: 3]'],
  ['gcloud-binary', 'RUNTIME_GCE_GCLOUD_BINARY', '[default: gcloud]'],
  ['extra-flags', 'RUNTIME_GCE_EXTRA_FLAGS', '[default: ""]'],
];

function assertOk(result: CliResult, what: string): void {
  assert.equal(result.exitCode, 0, `${what} failed:\n${result.stdout}\n${result.stderr}`);
}

/** Checks the `--runtime-gce-*` options of one command's help, whatever the line wrapping. */
function assertGceOptions(help: string): void {
  const text = help.replace(/\s+/g, ' ');
  const listed = [...text.matchAll(/--runtime-gce-([a-z-]+) </g)].map((match) => match[1]);
  assert.deepEqual(listed.sort(), GCE_OPTIONS.map(([flag]) => flag).sort());
  for (const [flag, env, shown] of GCE_OPTIONS) {
    const start = text.indexOf(`--runtime-gce-${flag} <`);
    const next = text.indexOf(' --', start + 1);
    const entry = text.slice(start, next < 0 ? undefined : next);
    assert.ok(entry.includes(`(env: ${env})`), `--runtime-gce-${flag} does not name ${env}: ${entry}`);
    assert.ok(entry.includes(shown), `--runtime-gce-${flag} does not show ${shown}: ${entry}`);
  }
}

const sshdSkip = integrationSkip('sshd', sshdMissingReason());

describe('seed walkthrough with opsmate-runtime-gce', { skip: sshdSkip }, () => {
  let server: SshdServer;
  let scratch: string;
  let pluginsDir: string;
  let gcloud: StandInGcloud;
  let env: Record<string, string>;

  before(async () => {
    server = await startSshd();
    scratch = mkdtempSync(join(tmpdir(), 'opsmate-walkthrough-'));
    pluginsDir = join(scratch, 'plugins');
    gcloud = writeStandInGcloud(scratch, server, [
      { name: STAND_IN_INSTANCE, zone: 'europe-west1-c', status: 'RUNNING', labels: { role: 'web' } },
      { name: 'old-vm', zone: 'europe-west1-c', status: 'TERMINATED', labels: { role: 'web' } },
      { name: 'db-vm', zone: 'europe-west1-c', status: 'RUNNING', labels: { role: 'db' } },
    ]);
    // The stand-in goes first on PATH, ahead of any real gcloud.
    env = { PATH: `${gcloud.binDir}:${process.env.PATH ?? ''}`, OPSMATE_HOME: join(scratch, 'home') };
  });
  after(async () => {
    await server?.stop();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  const opsmate = (args: string[], options: { cwd?: string; env?: Record<string, string> } = {}) =>
    runCli(args, { env: { ...env, ...options.env }, ...(options.cwd ? { cwd: options.cwd } : {}) });

  it('step 4: `opsmate install -e .` links the plugin folder', async () => {
    const result = await opsmate(['install', '-e', '.', '--plugins-dir', pluginsDir], { cwd: exampleDir });
    assertOk(result, 'install -e .');
    assert.match(result.stdout, /Installed opsmate-runtime-gce 0\.1\.0: runtime gce \(editable, linked to /);
  });

  it('step 5: `opsmate list-runtimes` shows gce with its description', async () => {
    const result = await opsmate(['list-runtimes', '--plugins-dir', pluginsDir]);
    assertOk(result, 'list-runtimes');
    assert.match(result.stdout, /^local\s/m);
    assert.match(
      result.stdout,
      /^gce\s+Runs commands on a Google Compute Engine instance through gcloud compute ssh \(IAP by default\)\.\s+plugin opsmate-runtime-gce$/m,
    );
    assert.equal(result.stderr, '');
  });

  it('step 5: `opsmate exec --help` (and chat, when it exists) lists every --runtime-gce-* option', async () => {
    const commands = ['exec'];
    const overview = await opsmate(['--help']);
    if (/^\s+chat\b/m.test(overview.stdout)) commands.push('chat');
    for (const command of commands) {
      const help = await opsmate([command, '--help', '--plugins-dir', pluginsDir]);
      assertOk(help, `${command} --help`);
      assert.match(help.stdout, /Runtime options: gce/);
      assertGceOptions(help.stdout);
    }
  });

  it('step 6: a command runs on the instance, exit code included', async () => {
    const result = await opsmate([
      'exec',
      '--plugins-dir',
      pluginsDir,
      '--shell-command-runtime',
      'gce',
      '--runtime-gce-instance',
      STAND_IN_INSTANCE,
      '--runtime-gce-zone',
      'europe-west1-c',
      '--',
      'echo "hello from $(id -un)"; echo oops >&2; exit 4',
    ]);
    assert.equal(result.exitCode, 4, result.stderr);
    assert.equal(result.stdout, `hello from ${server.user}\n`);
    assert.equal(result.stderr, 'oops\n');
    const call = gcloud.calls().at(-1)!;
    assert.deepEqual(call.slice(0, 7), [
      'compute',
      'ssh',
      STAND_IN_INSTANCE,
      '--zone',
      'europe-west1-c',
      '--tunnel-through-iap',
      '--quiet',
    ]);
  });

  it('beyond the seed: a selector group finds the running instances a gcloud filter picks', async () => {
    mkdirSync(join(scratch, 'home'), { recursive: true });
    writeFileSync(
      join(scratch, 'home', 'config.yaml'),
      'targets:\n  webs: { runtime: gce, selector: labels.role=web, zone: europe-west1-c }\n',
    );
    try {
      const result = await opsmate([
        'exec',
        '--plugins-dir',
        pluginsDir,
        '-t',
        'webs',
        '-o',
        'json',
        '--',
        'echo on-$(hostname >/dev/null && echo vm)',
      ]);
      assert.equal(result.exitCode, 0, result.stderr);
      const parsed = JSON.parse(result.stdout) as { results: Array<{ target: string; stdout: string }> };
      assert.deepEqual(
        parsed.results.map((entry) => [entry.target, entry.stdout]),
        [[STAND_IN_INSTANCE, 'on-vm\n']],
      );
      const list = gcloud.calls().find((call) => call[1] === 'instances');
      assert.deepEqual(list, [
        'compute',
        'instances',
        'list',
        '--filter=(labels.role=web) AND status=RUNNING',
        '--format=value(name,zone.basename())',
        '--zones=europe-west1-c',
        '--quiet',
      ]);
    } finally {
      rmSync(join(scratch, 'home', 'config.yaml'), { force: true });
    }
  });

  it('step 6: the same settings work from RUNTIME_GCE_* env vars', async () => {
    const result = await opsmate(['exec', '--plugins-dir', pluginsDir, '--', 'echo via-env'], {
      env: {
        SHELL_COMMAND_RUNTIME: 'gce',
        RUNTIME_GCE_INSTANCE: STAND_IN_INSTANCE,
        RUNTIME_GCE_ZONE: 'us-central1-a',
        RUNTIME_GCE_USE_IAP: 'false',
      },
    });
    assertOk(result, 'exec with env vars');
    assert.equal(result.stdout, 'via-env\n');
    const call = gcloud.calls().at(-1)!;
    assert.deepEqual(call.slice(3, 5), ['--zone', 'us-central1-a']);
    assert.ok(!call.includes('--tunnel-through-iap'));
  });

  it('step 6: an unknown instance fails in one line with gcloud’s reason', async () => {
    const result = await opsmate([
      'exec',
      '--plugins-dir',
      pluginsDir,
      '--shell-command-runtime',
      'gce',
      '--runtime-gce-instance',
      'not-my-vm',
      '--',
      'true',
    ]);
    assert.equal(result.exitCode, 1);
    assert.match(result.stderr, /^opsmate: error: .*\(gcloud\.compute\.ssh\).*not found/m);
    assert.doesNotMatch(result.stderr, /^\s+at /m);
  });

  it('step 7: `opsmate uninstall -y opsmate-runtime-gce` removes it; gce is gone', async () => {
    const refused = await opsmate(['uninstall', 'opsmate-runtime-gce', '--plugins-dir', pluginsDir]);
    assert.equal(refused.exitCode, 2, 'uninstall without -y and without a terminal must refuse');
    assert.match(refused.stderr, /opsmate: hint: pass -y/);

    const result = await opsmate(['uninstall', '-y', 'opsmate-runtime-gce', '--plugins-dir', pluginsDir]);
    assertOk(result, 'uninstall -y');
    assert.match(result.stdout, /Uninstalled opsmate-runtime-gce/);
    assert.ok(existsSync(join(exampleDir, 'src', 'gce.ts')), 'uninstall deleted the linked source folder');

    const runtimes = await opsmate(['list-runtimes', '--plugins-dir', pluginsDir]);
    assertOk(runtimes, 'list-runtimes');
    assert.doesNotMatch(runtimes.stdout, /^gce\s/m);
    const help = await opsmate(['exec', '--help', '--plugins-dir', pluginsDir]);
    assert.doesNotMatch(help.stdout, /--runtime-gce-/);
  });
});

describe('opsmate-runtime-gce from a packed tarball', { skip: sshdSkip }, () => {
  let server: SshdServer;
  let scratch: string;
  let pluginsDir: string;
  let env: Record<string, string>;

  before(async () => {
    server = await startSshd();
    scratch = mkdtempSync(join(tmpdir(), 'opsmate-tarball-'));
    pluginsDir = join(scratch, 'plugins');
    const gcloud = writeStandInGcloud(scratch, server);
    env = { PATH: `${gcloud.binDir}:${process.env.PATH ?? ''}`, OPSMATE_PLUGINS_DIR: pluginsDir };
    execFileSync('npm', ['pack', '--pack-destination', scratch], { cwd: exampleDir, stdio: 'ignore' });
  });
  after(async () => {
    await server?.stop();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  it('installs, lists, runs and uninstalls', async () => {
    const tarball = readdirSync(scratch).find((file) => file.endsWith('.tgz'));
    assert.ok(tarball, 'npm pack made no tarball');
    const install = await runCli(['install', join(scratch, tarball)], { env });
    assertOk(install, 'install TARBALL');
    assert.match(install.stdout, /Installed opsmate-runtime-gce 0\.1\.0: runtime gce/);

    const plugins = await runCli(['list-plugins'], { env });
    assertOk(plugins, 'list-plugins');
    assert.match(plugins.stdout, /^opsmate-runtime-gce\s+0\.1\.0\s+runtime gce\s+ok\s/m);

    const help = await runCli(['exec', '--help'], { env });
    assertGceOptions(help.stdout);

    const run = await runCli(
      ['exec', '--shell-command-runtime', 'gce', '--runtime-gce-instance', STAND_IN_INSTANCE, '--', 'exit 9'],
      { env },
    );
    assert.equal(run.exitCode, 9, run.stderr);

    // Installing the same tarball again is a no-op for npm but still checked; --force-reinstall redoes it.
    assertOk(await runCli(['install', '--force-reinstall', join(scratch, tarball)], { env }), 'reinstall');

    assertOk(await runCli(['uninstall', '-y', 'opsmate-runtime-gce'], { env }), 'uninstall');
    const runtimes = await runCli(['list-runtimes'], { env });
    assert.doesNotMatch(runtimes.stdout, /^gce\s/m);
    assert.deepEqual(readdirSync(join(pluginsDir, 'packages')), [], 'the packed copy was left behind');
  });
});
