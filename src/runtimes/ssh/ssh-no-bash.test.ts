import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { integrationSkip } from '../../../test-support/integration.js';
import { buildBusyboxChroot, chrootUserMissingReason } from '../../../test-support/ssh-chroot.js';
import { sshdMissingReason, startSshd, type SshdServer } from '../../../test-support/sshd-server.js';
import type { Runtime } from '../../runtime/contract.js';
import { sshConfigSchema, sshRuntime } from './ssh-runtime.js';

/*
 * A host without bash: sshd chroots this user into a busybox-only root (no /bin/bash, /bin/sh is
 * busybox ash). sshd wants the chroot owned by root and no component writable by others, which
 * rules out /tmp, hence /var/lib.
 */
const USER = 'opsmate-ssh-nobash';
const skip =
  integrationSkip('sshd', sshdMissingReason()) ||
  integrationSkip('no-bash host', chrootUserMissingReason(USER));

describe('ssh runtime on a host without bash', { skip }, () => {
  let server: SshdServer;
  let rootfs: string;
  let work: string;
  const runtimes: Runtime[] = [];

  before(async () => {
    rootfs = buildBusyboxChroot(USER);
    work = mkdtempSync(join(tmpdir(), 'opsmate-ssh-nobash-'));
    server = await startSshd({ extraConfig: [`Match User ${USER}`, `  ChrootDirectory ${rootfs}`] });
  });
  after(async () => {
    for (const runtime of runtimes) await runtime.disconnect();
    await server?.stop();
    if (rootfs) rmSync(rootfs, { recursive: true, force: true });
    if (work) rmSync(work, { recursive: true, force: true });
  });

  function create(shell?: string): Runtime {
    const config = sshConfigSchema.parse({
      host: server.host,
      port: server.port,
      username: USER,
      keyFile: server.keyFile,
      knownHostsFile: server.knownHostsFile,
      knownHostsPolicy: 'strict',
      ...(shell ? { shell } : {}),
    });
    const runtime = sshRuntime.create(config, { spillDir: work, outputLimitBytes: 64 * 1024 });
    runtimes.push(runtime);
    return runtime;
  }

  it('falls back to /bin/sh when the default /bin/bash is missing, and says so', async () => {
    const runtime = create();
    const result = await runtime.run('test -e /bin/bash && echo has-bash; cd /tmp; echo "$0 in $(pwd)"');
    assert.equal(result.exitCode, 0, result.stderr);
    assert.equal(result.stdout, '/bin/sh in /tmp\n');
    assert.match(await runtime.runtimeInfo(), /Shell: \/bin\/sh \(\/bin\/bash is not installed there\)/);
    assert.equal((await runtime.run('(exit 9)')).exitCode, 9);
  });

  it('refuses another configured shell that is missing, with a hint', async () => {
    const runtime = create('/usr/bin/bash');
    await assert.rejects(runtime.connect(), (error: Error & { hint?: string }) => {
      assert.match(
        error.message,
        /^ssh runtime: the shell \/usr\/bin\/bash does not exist on 127\.0\.0\.1:\d+$/,
      );
      assert.match(error.hint ?? '', /--runtime-ssh-shell/);
      return true;
    });
  });
});
