import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { integrationSkip } from '../../../test-support/integration.js';
import { runCli, type CliResult } from '../../../test-support/run-cli.js';
import {
  sshdMissingReason,
  sshRuntimeFlags,
  startSshd,
  type SshdServer,
} from '../../../test-support/sshd-server.js';

const root = new URL('../../../', import.meta.url).pathname;
const skip = integrationSkip('sshd', sshdMissingReason());

/** Runs the built CLI with this test's OPSMATE_HOME. */
function opsmate(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return runCli(args, { env: { OPSMATE_HOME: home, ...env } });
}

let home = '';

describe('opsmate CLI with the ssh runtime', { skip }, () => {
  let server: SshdServer;
  let sshFlags: string[];

  before(async () => {
    // `npm test` builds dist/ before any test runs; building here would race other test files.
    assert.ok(existsSync(join(root, 'dist/cli/main.js')), 'dist/ is missing: run `npm run build` first');
    home = mkdtempSync(join(tmpdir(), 'opsmate-ssh-cli-'));
    server = await startSshd();
    sshFlags = sshRuntimeFlags(server);
  });
  after(async () => {
    await server?.stop();
    if (home) rmSync(home, { recursive: true, force: true });
  });

  it('exits with the remote command exit code', async () => {
    const result = await opsmate(['exec', ...sshFlags, '--', 'echo remote; exit 7']);
    assert.equal(result.exitCode, 7, result.stderr);
    assert.equal(result.stdout, 'remote\n');
  });

  it('reads the config from RUNTIME_SSH_* env vars too, and keeps the password to itself', async () => {
    const secret = `cli-secret-${process.pid}`;
    // With a password set, BatchMode is off and askpass is armed; the key still logs in first.
    // The "remote" host is this machine: the command also lists every local process whose
    // environment holds the secret; only opsmate itself, which was given it, may.
    // The secret is put together on the target: the command's own text (which its shell's
    // environment holds) must not contain it whole.
    const command = `echo "$GREETING"; id -un; env >&2; s=cli-secret-; grep -l -s -F "\${s}${process.pid}" /proc/[0-9]*/environ >&2; true`;
    const result = await opsmate(['exec', '--', command], {
      RUNTIME_SSH_PASSWORD: secret,
      SHELL_COMMAND_RUNTIME: 'ssh',
      RUNTIME_SSH_HOST: server.host,
      RUNTIME_SSH_PORT: String(server.port),
      RUNTIME_SSH_KEY_FILE: server.keyFile,
      RUNTIME_SSH_KNOWN_HOSTS_FILE: server.knownHostsFile,
      RUNTIME_SSH_ENV: 'GREETING=hello from env',
    });
    assert.equal(result.exitCode, 0, result.stderr);
    assert.equal(result.stdout, `hello from env\n${server.user}\n`);
    assert.match(result.stderr, /GREETING=hello from env/);
    const holders = result.stderr
      .split('\n')
      .filter((line) => line.includes(secret) || /^\/proc\/\d+\/environ$/.test(line));
    assert.deepEqual(holders, [`/proc/${result.pid}/environ`], 'the password reached another process');
  });

  it('prints what the model is told with exec --info', async () => {
    const result = await opsmate(['exec', '--info', ...sshFlags]);
    assert.equal(result.exitCode, 0, result.stderr);
    assert.match(result.stdout, /Runtime: ssh/);
    assert.match(result.stdout, new RegExp(`Host: 127\\.0\\.0\\.1 \\(port ${server.port}\\)`));
    assert.match(result.stdout, new RegExp(`User:\\n<untrusted-data [^\\n]+>\\n${server.user}\\n`));
    assert.match(result.stdout, /OS info:\n\S/);
  });

  it('lists ssh among the runtimes and documents its flags', async () => {
    const list = await opsmate(['list-runtimes']);
    assert.equal(list.exitCode, 0);
    assert.match(list.stdout, /^ssh\s+Runs commands on a remote host over SSH/m);
    // Help shows the chosen runtime's options; ssh's when ssh is chosen.
    const help = await opsmate(['exec', '--shell-command-runtime', 'ssh', '--help']);
    for (const flag of [
      'host',
      'port',
      'username',
      'password',
      'key-file',
      'known-hosts-policy',
      'extra-options',
    ]) {
      assert.match(help.stdout, new RegExp(`--runtime-ssh-${flag} `), flag);
    }
    assert.match(help.stdout, /RUNTIME_SSH_KNOWN_HOSTS_POLICY/);
  });

  it('fails in two lines, without a stack, on a port nobody listens on', async () => {
    const flags = sshFlags.map((flag) => (flag === String(server.port) ? '1' : flag));
    const result = await opsmate(['exec', ...flags, '--runtime-ssh-connect-retries', '0', '--', 'true']);
    assert.equal(result.exitCode, 1);
    assert.equal(
      result.stderr,
      'opsmate: error: ssh runtime: 127.0.0.1:1 refused the connection\n' +
        'opsmate: hint: check --runtime-ssh-host and --runtime-ssh-port, and that sshd runs there\n',
    );
  });

  it('refuses a host with shell metacharacters as a usage error, running nothing', async () => {
    const marker = join(home, 'pwned');
    const result = await opsmate([
      'exec',
      '--shell-command-runtime',
      'ssh',
      '--runtime-ssh-host',
      `x; touch ${marker}`,
      '--',
      'true',
    ]);
    assert.equal(result.exitCode, 2);
    assert.match(result.stderr, /^opsmate: error: --runtime-ssh-host: must be a host name/);
    assert.equal(existsSync(marker), false);
  });
});
