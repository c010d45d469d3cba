import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { integrationSkip } from '../../../test-support/integration.js';
import { sshdMissingReason, startSshd, type SshdServer } from '../../../test-support/sshd-server.js';
import type { Runtime } from '../../runtime/contract.js';
import { sshConfigSchema, sshRuntime } from './ssh-runtime.js';

/*
 * A host without bash: sshd chroots this user into a busybox-only root (no /bin/bash, /bin/sh is
 * busybox ash). sshd wants the chroot owned by root and no component writable by others, which
 * rules out /tmp, hence /var/lib.
 */
const USER = 'opsmate-ssh-nobash';
const CHROOT_PARENT = '/var/lib/opsmate-test';
const BUSYBOX = '/bin/busybox';

function unavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'a chroot for sshd needs root';
  if (!existsSync(BUSYBOX)) return `${BUSYBOX} is missing (apt-get install -y busybox-static)`;
  try {
    execFileSync('id', ['-u', USER], { stdio: 'ignore' });
  } catch {
    try {
      execFileSync('useradd', ['--no-create-home', '--home-dir', '/', '--shell', '/bin/sh', USER]);
    } catch (error) {
      return `useradd ${USER} failed: ${(error as Error).message}`;
    }
  }
  try {
    // A new account is locked ('!'), and sshd refuses locked accounts even with a key; '*' means
    // "no password" without the lock.
    execFileSync('usermod', ['--password', '*', USER]);
  } catch (error) {
    return `usermod ${USER} failed: ${(error as Error).message}`;
  }
  return undefined;
}

/** A minimal root with busybox's applets, /dev/null, /tmp and a passwd entry for the user. */
function buildRoot(): string {
  mkdirSync(CHROOT_PARENT, { recursive: true, mode: 0o755 });
  const rootfs = mkdtempSync(join(CHROOT_PARENT, 'rootfs-'));
  execFileSync('chmod', ['755', rootfs]);
  for (const dir of ['bin', 'dev', 'etc', 'tmp', 'proc']) mkdirSync(join(rootfs, dir));
  execFileSync('chmod', ['1777', join(rootfs, 'tmp')]);
  execFileSync('cp', [BUSYBOX, join(rootfs, 'bin/busybox')]);
  execFileSync('chroot', [rootfs, '/bin/busybox', '--install', '-s', '/bin']);
  execFileSync('mknod', ['-m', '666', join(rootfs, 'dev/null'), 'c', '1', '3']);
  const passwd = execFileSync('getent', ['passwd', USER], { encoding: 'utf8' });
  writeFileSync(join(rootfs, 'etc/passwd'), `root:x:0:0:root:/:/bin/sh\n${passwd}`);
  return rootfs;
}

const skip = integrationSkip('sshd', sshdMissingReason()) || integrationSkip('no-bash host', unavailable());

describe('ssh runtime on a host without bash', { skip }, () => {
  let server: SshdServer;
  let rootfs: string;
  let work: string;
  const runtimes: Runtime[] = [];

  before(async () => {
    rootfs = buildRoot();
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
