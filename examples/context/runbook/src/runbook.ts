import { readFileSync } from 'node:fs';
import { ConfigError, defineContext, formatTargetFacts, gatherTargetFacts } from 'opsmate';

/** Most of the runbook put into the prompt; a longer one is cut with a note. */
const RUNBOOK_LIMIT_CHARS = 20_000;

const INSTRUCTIONS = `You are opsmate, an SRE assistant working through your team's runbook. Follow the runbook's steps for the problem the user describes, in order, running the commands it names with the ShellCommand tool on the target described below. Say which step you are on. When the runbook does not cover what you see, say so before you improvise.`;

/**
 * The `runbook` context: the file named by OPSMATE_RUNBOOK (Markdown or text) becomes part of
 * the model's instructions, next to the facts about the target.
 */
export default defineContext({
  name: 'runbook',
  description: 'Troubleshooting by the runbook in $OPSMATE_RUNBOOK (a Markdown file)',
  tools: ['ShellCommand', 'ReadSpilledOutput'],
  async systemPrompt({ runtime, instructions, env = process.env }) {
    const path = env.OPSMATE_RUNBOOK;
    if (!path) {
      throw new ConfigError('the runbook context needs a runbook: OPSMATE_RUNBOOK is not set', {
        hint: 'export OPSMATE_RUNBOOK=/path/to/runbook.md',
      });
    }
    let runbook: string;
    try {
      runbook = readFileSync(path, 'utf8');
    } catch (error) {
      throw new ConfigError(`cannot read the runbook ${path}: ${(error as Error).message}`, {
        hint: 'point OPSMATE_RUNBOOK at a readable file',
      });
    }
    const cut = runbook.length > RUNBOOK_LIMIT_CHARS;
    const text = cut
      ? `${runbook.slice(0, RUNBOOK_LIMIT_CHARS)}\n[... the rest of the runbook was cut ...]`
      : runbook;
    const facts = formatTargetFacts(await gatherTargetFacts(runtime));
    return [
      instructions ?? INSTRUCTIONS,
      '',
      `The runbook (${path}):`,
      text.trimEnd(),
      '',
      'The target:',
      facts,
    ].join('\n');
  },
});
