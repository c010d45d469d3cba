/**
 * Local Docker images for integration tests. There is no registry here, so images are made from
 * what the machine has: a Debian rootfs from debootstrap (bash, coreutils) and a busybox-only
 * rootfs (POSIX sh, no bash). Each is built once per machine and found again by its tag; a lock
 * file lets several test files (or worktrees) ask for the same image at once.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { co } from '../src/process/child-process.js';
import { acquireFileLock } from '../src/process/file-lock.js';

/** Bump the suffix when a recipe below changes, so machines rebuild instead of reusing. */
export const DEBIAN_IMAGE = 'opsmate-test/debian:bookworm-1';
export const BUSYBOX_IMAGE = 'opsmate-test/busybox:1';

const DEBIAN_SOURCES = '/etc/apt/sources.list.d/debian.sources';
const BUSYBOX_BINARY = ['/bin/busybox', '/usr/bin/busybox'];
const LOCK_FILE = join(tmpdir(), 'opsmate-test-docker-images.lock');
const LOCK_WAIT_MS = 15 * 60_000;
const LOCK_POLL_MS = 500;
const BUILD_TIMEOUT_MS = 10 * 60_000;

/** Why docker tests cannot run here (no client, no daemon), or undefined when they can. */
export function dockerMissingReason(): string | undefined {
  const result = spawnSync('docker', ['version', '--format', '{{.Server.Version}}'], {
    encoding: 'utf8',
    timeout: 15_000,
  });
  if (result.error) return `the docker client cannot run (${(result.error as NodeJS.ErrnoException).code})`;
  if (result.status !== 0) {
    return `the docker daemon is not reachable (${lastLine(result.stderr)}); start dockerd`;
  }
  return undefined;
}

/** Why the Debian image cannot be built (and is not already there), or undefined. */
export function debianImageMissingReason(): string | undefined {
  const docker = dockerMissingReason();
  if (docker) return docker;
  if (imageExists(DEBIAN_IMAGE)) return undefined;
  if (!existsSync('/usr/sbin/debootstrap'))
    return 'debootstrap is not installed (apt-get install debootstrap)';
  if (!debianMirror()) return `no URIs: line in ${DEBIAN_SOURCES} to take a Debian mirror from`;
  if (process.getuid?.() !== 0) return 'debootstrap needs root';
  return undefined;
}

/** Why the busybox image cannot be built (and is not already there), or undefined. */
export function busyboxImageMissingReason(): string | undefined {
  const docker = dockerMissingReason();
  if (docker) return docker;
  if (imageExists(BUSYBOX_IMAGE)) return undefined;
  if (!busyboxBinary()) return 'busybox-static is not installed (apt-get install busybox-static)';
  return undefined;
}

/** Builds the Debian image unless it exists. About 30 s to a few minutes on first use. */
export async function ensureDebianImage(): Promise<string> {
  await ensureImage(DEBIAN_IMAGE, buildDebianRootfs, ['CMD ["/bin/bash"]']);
  return DEBIAN_IMAGE;
}

/** Builds the busybox image unless it exists. Takes a second. */
export async function ensureBusyboxImage(): Promise<string> {
  await ensureImage(BUSYBOX_IMAGE, buildBusyboxRootfs, ['CMD ["/bin/sh"]']);
  return BUSYBOX_IMAGE;
}

/** A container name that no other test run can use: `opsmate-test-<label>-<random>`. */
export function uniqueContainerName(label: string): string {
  return `opsmate-test-${label}-${process.pid}-${randomBytes(4).toString('hex')}`;
}

/** Starts a detached container that just sleeps; returns its name. */
export async function startSleepingContainer(options: {
  image: string;
  name: string;
  /** Docker labels, e.g. those the stand-in kubectl reads (`opsmate.test/namespace`). */
  labels?: Record<string, string>;
  /** Share this machine's network namespace, so the container reaches servers on its loopback. */
  hostNetwork?: boolean;
}): Promise<string> {
  const labels = Object.entries(options.labels ?? {}).flatMap(([key, value]) => [
    '--label',
    `${key}=${value}`,
  ]);
  const result = await co(
    [
      'docker',
      'run',
      '-d',
      '--name',
      options.name,
      '--init',
      ...(options.hostNetwork ? ['--network', 'host'] : []),
      ...labels,
      options.image,
      'sleep',
      '86400',
    ],
    { timeoutMs: 60_000 },
  );
  if (result.exitCode !== 0) {
    throw new Error(`docker run ${options.image} failed: ${result.stderr.trim()}`);
  }
  return options.name;
}

/** Removes containers by name, ignoring those already gone. */
export async function removeContainers(names: readonly string[]): Promise<void> {
  if (names.length === 0) return;
  await co(['docker', 'rm', '-f', '-v', ...names], { timeoutMs: 60_000 });
}

function imageExists(tag: string): boolean {
  return spawnSync('docker', ['image', 'inspect', tag], { stdio: 'ignore', timeout: 15_000 }).status === 0;
}

async function ensureImage(
  tag: string,
  buildRootfs: (rootfs: string) => Promise<void>,
  changes: string[],
): Promise<void> {
  if (imageExists(tag)) return;
  await withLock(async () => {
    if (imageExists(tag)) return;
    const work = mkdtempSync(join(tmpdir(), 'opsmate-image-'));
    try {
      const rootfs = join(work, 'rootfs');
      mkdirSync(rootfs);
      await buildRootfs(rootfs);
      const tarball = join(work, 'rootfs.tar');
      await mustRun(['tar', '-C', rootfs, '--numeric-owner', '-cf', tarball, '.'], 'tar the rootfs');
      await mustRun(
        ['docker', 'import', ...changes.flatMap((change) => ['--change', change]), tarball, tag],
        `docker import ${tag}`,
      );
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
}

async function buildDebianRootfs(rootfs: string): Promise<void> {
  const mirror = debianMirror();
  if (!mirror) throw new Error(`no URIs: line in ${DEBIAN_SOURCES}`);
  await mustRun(['debootstrap', '--variant=minbase', 'bookworm', rootfs, mirror], 'debootstrap');
  // The image is only ever run, never updated: drop apt's caches to keep it small.
  rmSync(join(rootfs, 'var/cache/apt/archives'), { recursive: true, force: true });
  rmSync(join(rootfs, 'var/lib/apt/lists'), { recursive: true, force: true });
}

async function buildBusyboxRootfs(rootfs: string): Promise<void> {
  const binary = busyboxBinary();
  if (!binary) throw new Error('busybox-static is not installed');
  for (const dir of ['bin', 'etc', 'tmp', 'root', 'proc', 'sys', 'dev']) mkdirSync(join(rootfs, dir));
  chmodSync(join(rootfs, 'tmp'), 0o1777);
  copyFileSync(binary, join(rootfs, 'bin/busybox'));
  chmodSync(join(rootfs, 'bin/busybox'), 0o755);
  const list = await co([binary, '--list'], { timeoutMs: 10_000 });
  for (const applet of list.stdout.split('\n').map((line) => line.trim())) {
    if (applet === '' || applet === 'busybox' || applet.includes('/')) continue;
    symlinkSync('busybox', join(rootfs, 'bin', applet));
  }
  writeFileSync(
    join(rootfs, 'etc/passwd'),
    'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534::/:/bin/sh\n',
  );
  writeFileSync(join(rootfs, 'etc/group'), 'root:x:0:\nnogroup:x:65534:\n');
  writeFileSync(join(rootfs, 'etc/os-release'), 'NAME="BusyBox test image"\nID=busybox\n');
}

function debianMirror(): string | undefined {
  try {
    const match = /^URIs:\s*(\S+)/m.exec(readFileSync(DEBIAN_SOURCES, 'utf8'));
    return match?.[1];
  } catch {
    return undefined;
  }
}

function busyboxBinary(): string | undefined {
  return BUSYBOX_BINARY.find((path) => existsSync(path));
}

async function mustRun(argv: string[], what: string): Promise<void> {
  const result = await co(argv, { timeoutMs: BUILD_TIMEOUT_MS });
  if (result.exitCode !== 0) {
    throw new Error(`${what} failed (${result.exitCode ?? result.signal}): ${lastLine(result.stderr)}`);
  }
}

/** Runs `action` holding the image lock; a lock whose owner has died is taken over. */
async function withLock<T>(action: () => Promise<T>): Promise<T> {
  const lock = await acquireFileLock(LOCK_FILE, { waitMs: LOCK_WAIT_MS, pollMs: LOCK_POLL_MS });
  if (!lock.acquired) throw new Error(`timed out waiting for ${LOCK_FILE} (held by pid ${lock.holderPid})`);
  try {
    return await action();
  } finally {
    lock.release();
  }
}

function lastLine(text: string): string {
  const lines = text.trim().split('\n');
  return (lines[lines.length - 1] ?? '').trim();
}
