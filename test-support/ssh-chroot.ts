/**
 * A user that sshd locks into a busybox-only root (`ChrootDirectory`): a target with a file system
 * of its own (so a test can tell the target's files from this machine's) and POSIX sh only. sshd
 * wants the root owned by root with no component writable by others, which rules out /tmp.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureUser } from './sshd-server.js';

const CHROOT_PARENT = '/var/lib/opsmate-test';
const BUSYBOX = '/bin/busybox';

/** Why the chroot user cannot be made here, or undefined (creates the user when missing). */
export function chrootUserMissingReason(user: string): string | undefined {
  if (process.getuid?.() !== 0) return 'a chroot for sshd needs root';
  if (!existsSync(BUSYBOX)) return `${BUSYBOX} is missing (apt-get install -y busybox-static)`;
  return ensureUser(user, {
    useraddArgs: ['--no-create-home', '--home-dir', '/', '--shell', '/bin/sh'],
    keyLogin: true,
  });
}

/** A minimal root with busybox's applets, /dev/null, /tmp and a passwd entry for `user`. */
export function buildBusyboxChroot(user: string): string {
  mkdirSync(CHROOT_PARENT, { recursive: true, mode: 0o755 });
  const rootfs = mkdtempSync(join(CHROOT_PARENT, 'rootfs-'));
  execFileSync('chmod', ['755', rootfs]);
  for (const dir of ['bin', 'dev', 'etc', 'tmp', 'proc']) mkdirSync(join(rootfs, dir));
  execFileSync('chmod', ['1777', join(rootfs, 'tmp')]);
  execFileSync('cp', [BUSYBOX, join(rootfs, 'bin/busybox')]);
  execFileSync('chroot', [rootfs, '/bin/busybox', '--install', '-s', '/bin']);
  execFileSync('mknod', ['-m', '666', join(rootfs, 'dev/null'), 'c', '1', '3']);
  const passwd = execFileSync('getent', ['passwd', user], { encoding: 'utf8' });
  writeFileSync(join(rootfs, 'etc/passwd'), `root:x:0:0:root:/:/bin/sh\n${passwd}`);
  writeFileSync(join(rootfs, 'etc/os-release'), 'NAME="opsmate chroot"\nID=busybox\n');
  return rootfs;
}
