import { Command } from 'commander';
import type { CliContext } from '../cli-context.js';
import { addAgentOptions, maxIterOption, noToolOutputOption, parseMaxIter } from '../agent/agent-flags.js';

export function chatCommand(context: CliContext): Command {
  const command = new Command('chat')
    .summary('talk with the model about a target, with history')
    .description(
      'An interactive conversation: each message may lead the model to run commands before it answers, and ' +
        'it remembers the conversation. !clear forgets it, !help lists commands, !exit or Ctrl-D leaves. ' +
        'Ctrl-C while the model works cancels that turn and its running command, not the chat. ' +
        'With piped stdin, each line is one message.',
    )
    .addOption(maxIterOption());
  command.addOption(noToolOutputOption());
  addAgentOptions(command, context);
  command.action(async (options: { maxIter?: string; toolOutput: boolean; review?: boolean }) => {
    const maxIter = parseMaxIter(options.maxIter);
    const { runChat } = await import('../agent/chat-repl.js');
    process.exitCode = await runChat({
      command,
      context,
      review: Boolean(options.review),
      maxSteps: maxIter + 1,
      mode: { thoughts: true, actions: true, toolOutput: options.toolOutput, answer: true, labels: false },
    });
  });
  return command;
}
