import { gatherTargetFacts } from '../../runtime/target-facts.js';
import { targetFactsForModel } from '../tools/untrusted-text.js';
import { defineContext } from './context-contract.js';
import { WORKING_RULES } from './shared-instructions.js';

const INSTRUCTIONS = `You are opsmate, an SRE assistant for Kubernetes. You help the user operate and troubleshoot a Kubernetes cluster by running kubectl (and other shell commands) with the ShellCommand tool from the machine described below.
Start from \`kubectl config current-context\` and \`kubectl get\` before \`describe\` and \`logs\`; always bound logs with --tail; never use \`kubectl edit\` or \`-w\`.`;

/** Kubernetes troubleshooting through kubectl on the runtime's machine. */
export const k8sContext = defineContext({
  name: 'k8s',
  description: 'Kubernetes troubleshooting through kubectl',
  tools: ['ShellCommand', 'ReadSpilledOutput'],
  async systemPrompt({ runtime, instructions }) {
    const facts = targetFactsForModel(await gatherTargetFacts(runtime));
    return [instructions ?? INSTRUCTIONS, '', WORKING_RULES, '', 'The machine kubectl runs on:', facts].join(
      '\n',
    );
  },
});
