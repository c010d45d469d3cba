import { Command, Option } from 'commander';
import { ConfigError } from '../../errors/opsmate-error.js';
import type { CliContext } from '../cli-context.js';
import {
  addAgentOptions,
  maxIterOption,
  noToolOutputOption,
  parseMaxIter,
  parseToolCallsPerAction,
  type AgentCommandOptions,
} from '../agent/agent-flags.js';
import { readSettings } from '../field-options.js';

export function chatCommand(context: CliContext): Command {
  const command = new Command('chat')
    .summary('talk with the model about a target, with history')
    .description(
      'An interactive conversation: each message may lead the model to run commands before it answers, and ' +
        'it remembers the conversation. !clear forgets it, !help lists commands, !exit or Ctrl-D leaves. ' +
        'Ctrl-C while the model works cancels that turn and its running command, not the chat. ' +
        'With piped stdin, each line is one message. Saved as a session after every turn: --resume ID ' +
        'or --continue goes on with a saved one (see `opsmate sessions list`).',
    )
    .addOption(maxIterOption())
    .addOption(
      new Option(
        '--resume <ID>',
        'go on with a saved session (an id or its start; see `opsmate sessions list`)',
      ),
    )
    .addOption(new Option('--continue', 'go on with the session used last'));
  command.addOption(noToolOutputOption());
  addAgentOptions(command, context);
  command.action(
    async (
      options: AgentCommandOptions & {
        maxIter?: string;
        toolOutput: boolean;
        resume?: string;
        continue?: boolean;
      },
    ) => {
      const maxIter = parseMaxIter(options.maxIter);
      const toolCallsPerStep = parseToolCallsPerAction(options.toolCallsPerAction);
      if (options.resume !== undefined && options.continue) {
        throw new ConfigError('--resume and --continue cannot be used together', {
          hint: '--continue picks the last session; --resume ID picks one',
        });
      }
      let resume;
      if (options.resume !== undefined || options.continue) {
        const { sessionStoreFor } = await import('../agent/session-recorder.js');
        const store = sessionStoreFor(readSettings(command, context));
        resume = options.resume !== undefined ? store.load(options.resume) : store.latest();
        if (!resume) {
          throw new ConfigError(`there is no saved session in ${store.dir} to continue`, {
            hint: 'start one with `opsmate chat`, `opsmate run` or `opsmate solve`',
          });
        }
      }
      const { runChat } = await import('../agent/chat-repl.js');
      process.exitCode = await runChat({
        command,
        context,
        review: Boolean(options.review),
        yes: Boolean(options.yes),
        maxSteps: maxIter + 1,
        toolCallsPerStep,
        resume,
        mode: { thoughts: true, actions: true, toolOutput: options.toolOutput, answer: true, labels: false },
      });
    },
  );
  return command;
}
