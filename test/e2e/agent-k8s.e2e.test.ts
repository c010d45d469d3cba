// The agent against the k8s runtime through a STAND-IN kubectl (test-support/bin/kubectl): no
// Kubernetes cluster runs here, so the stand-in maps `kubectl exec` onto a local busybox container
// named like the pod. It proves the agent's path over a kubectl-shaped transport, not a real API
// server's behaviour.
import { delimiter } from 'node:path';
import { after } from 'node:test';
import { agentE2eSuite } from '../../test-support/agent-e2e-suite.js';
import {
  busyboxImageMissingReason,
  ensureBusyboxImage,
  removeContainers,
  startSleepingContainer,
  uniqueContainerName,
} from '../../test-support/docker-images.js';
import { integrationSkip } from '../../test-support/integration.js';

const STAND_IN_BIN = new URL('../../test-support/bin', import.meta.url).pathname;
const skip = integrationSkip('dockerd (for the stand-in kubectl)', busyboxImageMissingReason());
const pod = skip
  ? undefined
  : await startSleepingContainer({
      image: await ensureBusyboxImage(),
      name: uniqueContainerName('agent-pod'),
      labels: { 'opsmate.test/namespace': 'team-a', 'opsmate.test/containers': 'app' },
    });
after(async () => await removeContainers(pod ? [pod] : []));

agentE2eSuite({
  name: 'k8s',
  skip,
  runtimeArgs: pod
    ? ['--shell-command-runtime', 'k8s', '--runtime-k8s-pod', pod, '--runtime-k8s-namespace', 'team-a']
    : [],
  env: { PATH: `${STAND_IN_BIN}${delimiter}${process.env.PATH ?? ''}` },
});
