// FileEditor through the agent on every transport: local, docker (bash and busybox sh), ssh (bash
// on this machine, and a chrooted busybox user whose files are not this machine's), and k8s
// through the STAND-IN kubectl (test-support/bin/kubectl maps `kubectl exec` onto a local busybox
// container: it proves the path over a kubectl-shaped transport, not a real API server).
import { rmSync } from 'node:fs';
import { delimiter } from 'node:path';
import { after } from 'node:test';
import {
  busyboxImageMissingReason,
  debianImageMissingReason,
  ensureBusyboxImage,
  ensureDebianImage,
  removeContainers,
  startSleepingContainer,
  uniqueContainerName,
} from '../../test-support/docker-images.js';
import { fileToolsE2eSuite } from '../../test-support/file-tools-e2e-suite.js';
import { integrationSkip } from '../../test-support/integration.js';
import { buildBusyboxChroot, chrootUserMissingReason } from '../../test-support/ssh-chroot.js';
import {
  sshdMissingReason,
  sshRuntimeFlags,
  startSshd,
  type SshdServer,
} from '../../test-support/sshd-server.js';
import { dockerBackdoor, localBackdoor, sshBackdoor } from '../../test-support/target-backdoors.js';

const STAND_IN_BIN = new URL('../../test-support/bin', import.meta.url).pathname;
const CHROOT_USER = 'opsmate-ssh-files';

fileToolsE2eSuite({
  name: 'local',
  runtimeArgs: [],
  backdoor: localBackdoor,
  scratchDir: `/tmp/opsmate-file-tools-local-${process.pid}`,
  separateFileSystem: false,
});

const debianSkip = integrationSkip('docker', debianImageMissingReason());
const debian = debianSkip
  ? undefined
  : await startSleepingContainer({ image: await ensureDebianImage(), name: uniqueContainerName('files') });
const busyboxSkip = integrationSkip('docker', busyboxImageMissingReason());
const busybox = busyboxSkip
  ? undefined
  : await startSleepingContainer({
      image: await ensureBusyboxImage(),
      name: uniqueContainerName('files-sh'),
    });
const pod = busyboxSkip
  ? undefined
  : await startSleepingContainer({
      image: await ensureBusyboxImage(),
      name: uniqueContainerName('files-pod'),
      labels: { 'opsmate.test/namespace': 'team-files', 'opsmate.test/containers': 'app' },
    });
after(async () => await removeContainers([debian, busybox, pod].filter((name) => name !== undefined)));

fileToolsE2eSuite({
  name: 'docker (bash)',
  skip: debianSkip,
  runtimeArgs: ['--shell-command-runtime', 'docker', '--runtime-docker-container-name', debian ?? 'none'],
  backdoor: () => dockerBackdoor(debian ?? 'none'),
  scratchDir: `/tmp/opsmate-file-tools-docker-${process.pid}`,
  separateFileSystem: true,
});

fileToolsE2eSuite({
  name: 'docker (busybox sh)',
  skip: busyboxSkip,
  runtimeArgs: ['--shell-command-runtime', 'docker', '--runtime-docker-container-name', busybox ?? 'none'],
  backdoor: () => dockerBackdoor(busybox ?? 'none'),
  scratchDir: `/tmp/opsmate-file-tools-busybox-${process.pid}`,
  separateFileSystem: true,
});

fileToolsE2eSuite({
  name: 'k8s (stand-in kubectl)',
  skip: busyboxSkip,
  runtimeArgs: [
    '--shell-command-runtime',
    'k8s',
    '--runtime-k8s-pod',
    pod ?? 'none',
    '--runtime-k8s-namespace',
    'team-files',
  ],
  env: { PATH: `${STAND_IN_BIN}${delimiter}${process.env.PATH ?? ''}` },
  backdoor: () => dockerBackdoor(pod ?? 'none'),
  scratchDir: `/tmp/opsmate-file-tools-k8s-${process.pid}`,
  separateFileSystem: true,
});

const sshSkip = integrationSkip('sshd', sshdMissingReason());
const chrootSkip = sshSkip || integrationSkip('chrooted ssh user', chrootUserMissingReason(CHROOT_USER));
const rootfs = chrootSkip ? undefined : buildBusyboxChroot(CHROOT_USER);
const server: SshdServer | undefined = sshSkip
  ? undefined
  : await startSshd({
      extraConfig: rootfs ? [`Match User ${CHROOT_USER}`, `  ChrootDirectory ${rootfs}`] : [],
    });
after(async () => {
  await server?.stop();
  if (rootfs) rmSync(rootfs, { recursive: true, force: true });
});

fileToolsE2eSuite({
  name: 'ssh (bash, this machine)',
  skip: sshSkip,
  runtimeArgs: server ? sshRuntimeFlags(server) : [],
  backdoor: () => sshBackdoor(server!),
  scratchDir: `/tmp/opsmate-file-tools-ssh-${process.pid}`,
  separateFileSystem: false,
});

fileToolsE2eSuite({
  name: 'ssh (busybox sh in a chroot: its own files)',
  skip: chrootSkip,
  runtimeArgs: server ? sshRuntimeFlags(server).map((arg) => (arg === server.user ? CHROOT_USER : arg)) : [],
  backdoor: () => sshBackdoor(server!, CHROOT_USER),
  scratchDir: `/tmp/opsmate-file-tools-chroot-${process.pid}`,
  separateFileSystem: true,
});
