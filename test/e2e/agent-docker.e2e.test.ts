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

// The agent against a real container in a local Debian image: the same suite as the local runtime.
const skip = integrationSkip('docker', debianImageMissingReason());
const container = skip
  ? undefined
  : await startSleepingContainer({ image: await ensureDebianImage(), name: uniqueContainerName('agent') });
// And in a busybox image: POSIX sh only, no bash.
const busyboxSkip = integrationSkip('docker', busyboxImageMissingReason());
const busybox = busyboxSkip
  ? undefined
  : await startSleepingContainer({
      image: await ensureBusyboxImage(),
      name: uniqueContainerName('agent-sh'),
    });
after(async () => await removeContainers([container, busybox].filter((name) => name !== undefined)));

agentE2eSuite({
  name: 'docker',
  skip,
  runtimeArgs: container
    ? ['--shell-command-runtime', 'docker', '--runtime-docker-container-name', container]
    : [],
});

agentE2eSuite({
  name: 'docker',
  skip: busyboxSkip,
  runtimeArgs: busybox
    ? ['--shell-command-runtime', 'docker', '--runtime-docker-container-name', busybox]
    : [],
});
