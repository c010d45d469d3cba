// `opsmate mcp` through the official MCP SDK's client over stdio, on every transport: local, a
// real container (Debian with bash, busybox with sh only), a real loopback sshd, and k8s through
// a STAND-IN kubectl (test-support/bin/kubectl maps `kubectl exec` onto a local busybox container
// named like the pod; no Kubernetes cluster runs here).
import { randomBytes } from 'node:crypto';
import { delimiter } from 'node:path';
import { after } from 'node:test';
import {
  busyboxImageMissingReason,
  debianImageMissingReason,
  ensureBusyboxImage,
  ensureDebianImage,
  removeContainers,
  startSleepingContainer,
} from '../../test-support/docker-images.js';
import { integrationSkip } from '../../test-support/integration.js';
import { mcpServerE2eSuite } from '../../test-support/mcp-server-e2e-suite.js';
import { sshdMissingReason, sshRuntimeFlags, startSshd } from '../../test-support/sshd-server.js';

const name = (label: string) => `wt-mcp-${label}-${process.pid}-${randomBytes(3).toString('hex')}`;
const STAND_IN_BIN = new URL('../../test-support/bin', import.meta.url).pathname;

const debianSkip = integrationSkip('docker', debianImageMissingReason());
const busyboxSkip = integrationSkip('docker', busyboxImageMissingReason());
const sshSkip = integrationSkip('sshd', sshdMissingReason());
const [debian, busybox, pod, sshd] = await Promise.all([
  debianSkip ? undefined : startSleepingContainer({ image: await ensureDebianImage(), name: name('bash') }),
  busyboxSkip ? undefined : startSleepingContainer({ image: await ensureBusyboxImage(), name: name('sh') }),
  busyboxSkip
    ? undefined
    : startSleepingContainer({
        image: await ensureBusyboxImage(),
        name: name('pod'),
        labels: { 'opsmate.test/namespace': 'team-a', 'opsmate.test/containers': 'app' },
      }),
  sshSkip ? undefined : startSshd(),
]);
after(async () => {
  await removeContainers([debian, busybox, pod].filter((container) => container !== undefined));
  await sshd?.stop();
});

mcpServerE2eSuite({ name: 'local', runtimeArgs: [] });
mcpServerE2eSuite({
  name: 'docker',
  label: 'docker (Debian, bash)',
  skip: debianSkip,
  runtimeArgs: debian ? ['--shell-command-runtime', 'docker', '--runtime-docker-container-name', debian] : [],
});
mcpServerE2eSuite({
  name: 'docker',
  label: 'docker (busybox sh)',
  skip: busyboxSkip,
  runtimeArgs: busybox
    ? ['--shell-command-runtime', 'docker', '--runtime-docker-container-name', busybox]
    : [],
});
mcpServerE2eSuite({ name: 'ssh', skip: sshSkip, runtimeArgs: sshd ? sshRuntimeFlags(sshd) : [] });
mcpServerE2eSuite({
  name: 'k8s',
  label: 'k8s (stand-in kubectl)',
  skip: busyboxSkip,
  runtimeArgs: pod
    ? ['--shell-command-runtime', 'k8s', '--runtime-k8s-pod', pod, '--runtime-k8s-namespace', 'team-a']
    : [],
  env: { PATH: `${STAND_IN_BIN}${delimiter}${process.env.PATH ?? ''}` },
});
