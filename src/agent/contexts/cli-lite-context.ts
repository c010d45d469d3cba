import { SHELL_LANGUAGE } from '../../runtime/contract.js';
import { gatherTargetFacts } from '../../runtime/target-facts.js';
import { UNTRUSTED_DATA_RULE, wrapUntrusted } from '../tools/untrusted-text.js';
import { defineContext } from './context-contract.js';

/**
 * For small local models: one tool, a short prompt, and only the facts that matter most (the
 * OS's name, the user, whether systemd runs), so a 4k-token context has room for the work.
 */
export const cliLiteContext = defineContext({
  name: 'cli-lite',
  description: 'A short prompt with ShellCommand only, for small local models',
  tools: ['ShellCommand'],
  async systemPrompt({ runtime, instructions }) {
    const facts = await gatherTargetFacts(runtime);
    const language = runtime.language ?? SHELL_LANGUAGE;
    const what = language.id === SHELL_LANGUAGE.id ? 'shell commands' : language.description;
    const os = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(facts.osInfo ?? '')?.[1] ?? facts.osInfo?.split('\n')[0];
    const known = [
      `Runtime: ${facts.runtime}`,
      ...(os ? [`OS: ${os}`] : []),
      ...(facts.user ? [`User: ${facts.user}`] : []),
      ...(facts.hasSystemd !== undefined ? [`Systemd: ${facts.hasSystemd ? 'yes' : 'no'}`] : []),
    ].join('\n');
    return [
      instructions ??
        `You are opsmate, an SRE assistant. Answer the user's question about the target by running ${what} with the ShellCommand tool.`,
      'Run short, read-only commands first. Nothing can answer prompts. Read exit codes and stderr.',
      UNTRUSTED_DATA_RULE,
      'End with a short answer: what you found and what to do.',
      '',
      'The target:',
      wrapUntrusted('target-facts', known),
    ].join('\n');
  },
});
