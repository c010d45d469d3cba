import { gatherTargetFacts } from '../../runtime/target-facts.js';
import { targetFactsForModel } from '../tools/untrusted-text.js';
import { defineContext } from './context-contract.js';
import { WORKING_RULES } from './shared-instructions.js';

const INSTRUCTIONS = `You are opsmate, an SRE assistant. You help the user operate and troubleshoot the machine described below by running shell commands on it with the ShellCommand tool.`;

/** The default context: a machine reached through the chosen runtime's shell. */
export const cliContext = defineContext({
  name: 'cli',
  description: 'General troubleshooting of a machine through its shell (the default)',
  tools: ['ShellCommand', 'ReadSpilledOutput'],
  async systemPrompt({ runtime, instructions }) {
    const facts = targetFactsForModel(await gatherTargetFacts(runtime));
    return [instructions ?? INSTRUCTIONS, '', WORKING_RULES, '', 'The target machine:', facts].join('\n');
  },
});
