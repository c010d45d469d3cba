import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { integrationSkip } from '../../../test-support/integration.js';
import {
  ensurePasswordUser,
  sshdMissingReason,
  startSshd,
  type SshdServer,
} from '../../../test-support/sshd-server.js';
import { OpsmateError } from '../../errors/opsmate-error.js';
import type { Runtime } from '../../runtime/contract.js';
import { sshConfigSchema, sshRuntime } from './ssh-runtime.js';

/** A dedicated local user; created once (needs root), its password reset at every run. */
const TEST_USER = 'opsmate-ssh-test';
// Shell metacharacters and quotes on purpose: the password must survive them untouched.
const PASSWORD = `pw ${randomBytes(9).toString('hex')} $(x) 'q' "d";`;

const skip =
  integrationSkip('sshd', sshdMissingReason()) ||
  integrationSkip('password login', ensurePasswordUser(TEST_USER, PASSWORD));

describe('ssh runtime: password authentication', { skip }, () => {
  let server: SshdServer;
  let work: string;
  const runtimes: Runtime[] = [];

  before(async () => {
    server = await startSshd({ passwordAuthentication: true });
    work = mkdtempSync(join(tmpdir(), 'opsmate-ssh-password-'));
  });
  after(async () => {
    for (const runtime of runtimes) await runtime.disconnect();
    await server?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  function create(password: string): Runtime {
    const config = sshConfigSchema.parse({
      host: server.host,
      port: server.port,
      username: TEST_USER,
      password,
      knownHostsFile: server.knownHostsFile,
      knownHostsPolicy: 'strict',
      // Only the password may get this user in: no agent or default keys.
      extraOptions: ['PubkeyAuthentication=no', 'IdentityAgent=none'],
      timeout: 5,
    });
    const runtime = sshRuntime.create(config, { spillDir: work, outputLimitBytes: 64 * 1024 });
    runtimes.push(runtime);
    return runtime;
  }

  it('logs in with the password, which appears in no argv, environment or remote env', async () => {
    const runtime = create(PASSWORD);
    assert.equal(await runtime.whoami!(), TEST_USER);

    const remoteEnv = await runtime.run('env; cat /proc/$$/environ');
    assert.equal(remoteEnv.exitCode, 0);
    assert.ok(!remoteEnv.stdout.includes(PASSWORD), 'the password reached the remote environment');

    // Every process on this machine (the ssh client, its master, sshd, the remote shell).
    const leaks: string[] = [];
    for (const pid of readdirSync('/proc').filter((entry) => /^\d+$/.test(entry))) {
      if (Number(pid) === process.pid) continue;
      for (const file of ['cmdline', 'environ']) {
        let content: string;
        try {
          content = readFileSync(`/proc/${pid}/${file}`, 'utf8');
        } catch {
          continue;
        }
        if (content.includes(PASSWORD)) leaks.push(`${pid}/${file}: ${content.replaceAll('\0', ' ')}`);
      }
    }
    assert.deepEqual(leaks, [], 'the password is visible in a process');

    const leftovers = readdirSync(tmpdir())
      .filter((entry) => entry.startsWith('opsmate-ssh-'))
      .flatMap((entry) => {
        try {
          return readdirSync(join(tmpdir(), entry)).filter((file) => file === 'password');
        } catch {
          return [];
        }
      });
    assert.deepEqual(leftovers, [], 'the password file outlives the connection');
  });

  it('does not retry a wrong password', async () => {
    const failuresBefore = countFailedPasswords(server);
    const error = await create(`${PASSWORD}-wrong`)
      .connect()
      .then(
        () => assert.fail('a wrong password connected'),
        (rejected: unknown) => rejected,
      );
    assert.ok(OpsmateError.isInstance(error));
    assert.match(error.message, new RegExp(`authentication as ${TEST_USER} on 127\\.0\\.0\\.1:\\d+ failed`));
    assert.ok(!error.message.includes(PASSWORD) && !(error.hint ?? '').includes(PASSWORD));
    assert.equal(countFailedPasswords(server) - failuresBefore, 1, 'one password attempt only');
  });
});

function countFailedPasswords(server: SshdServer): number {
  return server.log().match(/Failed password for/g)?.length ?? 0;
}
