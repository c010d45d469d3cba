import { existsSync } from 'node:fs';
import { after } from 'node:test';
import { fileEditorSuite } from '../../../../test-support/file-editor-suite.js';
import {
  busyboxImageMissingReason,
  ensureBusyboxImage,
  removeContainers,
  startSleepingContainer,
  uniqueContainerName,
} from '../../../../test-support/docker-images.js';
import { integrationSkip } from '../../../../test-support/integration.js';
import { dockerBackdoor, localBackdoor } from '../../../../test-support/target-backdoors.js';
import { dockerRuntime } from '../../../runtimes/docker/docker-runtime.js';
import { localRuntime } from '../../../runtimes/local/local-runtime.js';
import type { RuntimeContext } from '../../../runtime/contract.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const context: RuntimeContext = {
  spillDir: join(tmpdir(), 'opsmate-file-editor-spill'),
  outputLimitBytes: 10_000,
};

fileEditorSuite({
  name: 'local bash',
  createRuntime: () => localRuntime.create(localRuntime.configSchema.parse({ shell: '/bin/bash' }), context),
  backdoor: localBackdoor,
  scratchDir: join(tmpdir(), `opsmate-file-editor-bash-${process.pid}`),
});

fileEditorSuite({
  name: 'local sh (dash)',
  skip: existsSync('/bin/dash') ? false : '/bin/dash is not installed',
  createRuntime: () => localRuntime.create(localRuntime.configSchema.parse({ shell: '/bin/dash' }), context),
  backdoor: localBackdoor,
  scratchDir: join(tmpdir(), `opsmate-file-editor-dash-${process.pid}`),
});

// busybox: ash, busybox's own base64, sha256sum, stat, grep (no -I) and find.
const busyboxSkip = integrationSkip('docker', busyboxImageMissingReason());
const busybox = busyboxSkip
  ? undefined
  : await startSleepingContainer({
      image: await ensureBusyboxImage(),
      name: uniqueContainerName('file-editor'),
    });
after(async () => await removeContainers(busybox ? [busybox] : []));

fileEditorSuite({
  name: 'docker busybox sh',
  skip: busyboxSkip,
  createRuntime: () =>
    dockerRuntime.create(dockerRuntime.configSchema.parse({ containerName: busybox ?? 'none' }), context),
  backdoor: () => dockerBackdoor(busybox ?? 'none'),
  scratchDir: '/tmp/opsmate-file-editor',
});
