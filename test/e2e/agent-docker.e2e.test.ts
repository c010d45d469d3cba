import { after } from 'node:test';
import { agentE2eSuite } from '../../test-support/agent-e2e-suite.js';
import {
  busyboxImageMissingReason,
  debianImageMissingReason,
  ensureBusyboxImage,
  ensureDebianImage,
  removeContainers,
  startSleepingContainer,
  uniqueContainerName,
} from '../../test-support/docker-images.js';
import { integrationSkip } from '../../test-support/integration.js';

// The agent against real containers in local images: the same suite as the local runtime, on a
// Debian image (bash) and on a busybox one (sh only).
const skip = integrationSkip('docker', debianImageMissingReason());
const busyboxSkip = integrationSkip('docker', busyboxImageMissingReason());
const container = skip
  ? undefined
  : await startSleepingContainer({ image: await ensureDebianImage(), name: uniqueContainerName('agent') });
const busybox = busyboxSkip
  ? undefined
  : await startSleepingContainer({
      image: await ensureBusyboxImage(),
      name: uniqueContainerName('agent-bb'),
    });
after(async () => await removeContainers([container, busybox].filter((name): name is string => !!name)));

agentE2eSuite({
  name: 'docker',
  skip,
  runtimeArgs: container
    ? ['--shell-command-runtime', 'docker', '--runtime-docker-container-name', container]
    : [],
});

agentE2eSuite({
  name: 'docker',
  label: 'docker (busybox sh)',
  skip: busyboxSkip,
  runtimeArgs: busybox
    ? ['--shell-command-runtime', 'docker', '--runtime-docker-container-name', busybox]
    : [],
});
