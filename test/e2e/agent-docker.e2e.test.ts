import { after } from 'node:test';
import { agentE2eSuite } from '../../test-support/agent-e2e-suite.js';
import {
  debianImageMissingReason,
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
after(async () => await removeContainers(container ? [container] : []));

agentE2eSuite({
  name: 'docker',
  skip,
  runtimeArgs: container
    ? ['--shell-command-runtime', 'docker', '--runtime-docker-container-name', container]
    : [],
});
