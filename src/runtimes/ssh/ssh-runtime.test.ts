import { existsSync } from 'node:fs';
import { after, before } from 'node:test';
import { integrationSkip } from '../../../test-support/integration.js';
import {
  ensureSudoUser,
  sshdMissingReason,
  startSshd,
  type SshdServer,
} from '../../../test-support/sshd-server.js';
import { runtimeConformanceSuite } from '../../testing/conformance-suite.js';
import { privilegeConformanceSuite } from '../../testing/privilege-suite.js';
import { sshConfigSchema, sshRuntime } from './ssh-runtime.js';

const skip = integrationSkip('sshd', sshdMissingReason());
let server: SshdServer | undefined;

before(async () => {
  if (!skip) server = await startSshd();
});
after(async () => {
  await server?.stop();
});

function sshConfig(shell: string, username?: string) {
  if (!server) throw new Error('sshd fixture did not start');
  return sshConfigSchema.parse({
    host: server.host,
    port: server.port,
    username: username ?? server.user,
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

// The usual cloud VM: opsmate logs in as an unprivileged user who may run anything through sudo,
// and a timeout must stop what runs as root too. Then a user whose sudo allows `sh` but not `kill`:
// what cannot be stopped must be named, never reported as killed.
const sudoer = skip || integrationSkip('a sudo user', ensureSudoUser('opsmate-sudoer', 'ALL'));
privilegeConformanceSuite({
  name: 'ssh (bash) as a sudoer',
  skip: sudoer,
  sudo: 'any',
  create: (context) => sshRuntime.create(sshConfig('/bin/bash', 'opsmate-sudoer'), context),
});
privilegeConformanceSuite({
  name: 'ssh (dash) as a sudoer',
  skip: sudoer || (existsSync('/bin/dash') ? false : 'dash is not installed (apt-get install dash)'),
  sudo: 'any',
  create: (context) => sshRuntime.create(sshConfig('/bin/sh', 'opsmate-sudoer'), context),
});
const limited =
  skip || integrationSkip('a limited sudo user', ensureSudoUser('opsmate-limited', '/bin/sh, /usr/bin/sh'));
privilegeConformanceSuite({
  name: 'ssh (bash) as a user whose sudo cannot kill',
  skip: limited,
  sudo: 'limited',
  create: (context) => sshRuntime.create(sshConfig('/bin/bash', 'opsmate-limited'), context),
});
