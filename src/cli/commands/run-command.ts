import { Command, Option } from 'commander';
import type { CliContext } from '../cli-context.js';
import { addAgentOptions, noToolOutputOption } from '../agent/agent-flags.js';

/** Model calls of `run`: one that may call tools, one that must give the observation. */
const RUN_STEPS = 2;

export function runCommand(context: CliContext): Command {
  const command = new Command('run')
    .summary('run one request: the model runs commands once, then gives its observation')
    .description(
      'Send one instruction to the model. It may call tools once (several commands in parallel), then it ' +
        'must answer from what it saw: its observation. Prints the tool calls with their output, then the ' +
        'observation. -nt (--no-tool-output) prints only the observation; -no (--no-observation) prints only ' +
        'the tool calls and their output. INSTRUCTION `-` reads it from stdin.',
    )
    .argument('<instruction>', 'what to do or find out, in plain words; - reads stdin');
  command.addOption(noToolOutputOption());
  command.addOption(new Option('--no-observation', 'do not print the observation (short: -no)'));
  addAgentOptions(command, context);
  command.action(
    async (instruction: string, options: { toolOutput: boolean; observation: boolean; review?: boolean }) => {
      const { runInstruction } = await import('../agent/run-instruction.js');
      process.exitCode = await runInstruction({
        instruction,
        command,
        context,
        review: Boolean(options.review),
        maxSteps: RUN_STEPS,
        limitHint: 'try `opsmate solve`, which lets it take more steps',
        mode: {
          thoughts: options.toolOutput && options.observation,
          actions: options.toolOutput,
          toolOutput: options.toolOutput,
          answer: options.observation,
          labels: false,
        },
      });
    },
  );
  return command;
}
