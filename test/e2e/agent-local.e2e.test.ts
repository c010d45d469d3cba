import { agentE2eSuite } from '../../test-support/agent-e2e-suite.js';

agentE2eSuite({ name: 'local', runtimeArgs: ['--shell-command-runtime', 'local'] });
