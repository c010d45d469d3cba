import { existsSync } from 'node:fs';
import { after, before } from 'node:test';
import { integrationSkip } from '../../../test-support/integration.js';
import { sshdMissingReason, startSshd, type SshdServer } from '../../../test-support/sshd-server.js';
import { runtimeConformanceSuite } from '../../testing/conformance-suite.js';
import { sshConfigSchema, sshRuntime } from './ssh-runtime.js';

const skip = integrationSkip('sshd', sshdMissingReason());
let server: SshdServer | undefined;

before(async () => {
  if (!skip) server = await startSshd();
});
after(async () => {
  await server?.stop();
});

function sshConfig(shell: string) {
  if (!server) throw new Error('sshd fixture did not start');
  return sshConfigSchema.parse({
    host: server.host,
    port: server.port,
    username: server.user,
    keyFile: server.keyFile,
    knownHostsFile: server.knownHostsFile,
    knownHostsPolicy: 'strict',
    shell,
  });
}

runtimeConformanceSuite({
  name: 'ssh (bash)',
  skip,
  create: (context) => sshRuntime.create(sshConfig('/bin/bash'), context),
});

runtimeConformanceSuite({
  name: 'ssh (dash as /bin/sh)',
  skip: skip || (existsSync('/bin/dash') ? false : 'dash is not installed (apt-get install dash)'),
  create: (context) => sshRuntime.create(sshConfig('/bin/sh'), context),
});
