import { Command, Option } from 'commander';
import type { CliContext } from '../cli-context.js';
import { addAgentOptions, maxIterOption, noToolOutputOption, parseMaxIter } from '../agent/agent-flags.js';

export function solveCommand(context: CliContext): Command {
  const command = new Command('solve')
    .summary('work on a problem step by step until the model has an answer')
    .description(
      'Let the model investigate iteratively: each round it thinks, runs tools and reads the results, for ' +
        'up to --max-iter rounds, then gives its answer. Shows Thought, Action, Observation and Answer. ' +
        "-a prints only the answer; -nt (--no-tool-output) leaves out the commands' output. " +
        'INSTRUCTION `-` reads it from stdin.',
    )
    .argument('<instruction>', 'the problem to solve, in plain words; - reads stdin')
    .addOption(maxIterOption())
    .addOption(new Option('-a, --answer-only', 'print only the final answer'));
  command.addOption(noToolOutputOption());
  addAgentOptions(command, context);
  command.action(
    async (
      instruction: string,
      options: { maxIter?: string; answerOnly?: boolean; toolOutput: boolean; review?: boolean },
    ) => {
      const maxIter = parseMaxIter(options.maxIter);
      const { runInstruction } = await import('../agent/run-instruction.js');
      const all = !options.answerOnly;
      process.exitCode = await runInstruction({
        instruction,
        command,
        context,
        review: Boolean(options.review),
        maxSteps: maxIter + 1,
        limitHint: 'raise --max-iter',
        mode: {
          thoughts: all,
          actions: all,
          toolOutput: all && options.toolOutput,
          answer: true,
          labels: all,
        },
      });
    },
  );
  return command;
}
