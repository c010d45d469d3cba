import { after } from 'node:test';
import { agentE2eSuite } from '../../test-support/agent-e2e-suite.js';
import { integrationSkip } from '../../test-support/integration.js';
import {
  sshdMissingReason,
  sshRuntimeFlags,
  startSshd,
  type SshdServer,
} from '../../test-support/sshd-server.js';

// The agent against a real loopback sshd: the same suite as the local runtime.
const skip = integrationSkip('sshd', sshdMissingReason());
const server: SshdServer | undefined = skip ? undefined : await startSshd();
after(async () => await server?.stop());

agentE2eSuite({
  name: 'ssh',
  skip,
  runtimeArgs: server ? sshRuntimeFlags(server) : [],
});
