import { SHELL_LANGUAGE, type CommandLanguage } from '../../runtime/contract.js';
import { gatherTargetFacts } from '../../runtime/target-facts.js';
import { targetFactsForModel } from '../tools/untrusted-text.js';
import { defineContext } from './context-contract.js';
import { DEFAULT_TOOLS, toolHints, WORKING_RULES } from './shared-instructions.js';

const SHELL_INSTRUCTIONS = `You are opsmate, an SRE assistant. You help the user operate and troubleshoot the machine described below by running shell commands on it with the ShellCommand tool.`;

const TOOLS = DEFAULT_TOOLS;

/** For a runtime whose commands are not shell commands (a database...). */
function instructionsFor(language: CommandLanguage): string {
  if (language.id === SHELL_LANGUAGE.id) return SHELL_INSTRUCTIONS;
  return `You are opsmate, an SRE assistant. You help the user operate and troubleshoot the target described below by running commands on it with the ShellCommand tool. Its commands are not shell commands: write ${language.description}.`;
}

/** The default context: a machine reached through the chosen runtime's shell. */
export const cliContext = defineContext({
  name: 'cli',
  description: 'General troubleshooting of a target through its runtime (the default)',
  tools: TOOLS,
  async systemPrompt({ runtime, instructions, tools }) {
    const facts = targetFactsForModel(await gatherTargetFacts(runtime));
    const language = runtime.language ?? SHELL_LANGUAGE;
    const heading = language.id === SHELL_LANGUAGE.id ? 'The target machine:' : 'The target:';
    const rules = [WORKING_RULES, ...toolHints(tools ?? TOOLS)].join('\n');
    return [instructions ?? instructionsFor(language), '', rules, '', heading, facts].join('\n');
  },
});
