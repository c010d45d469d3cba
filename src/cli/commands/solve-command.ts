import { Command, Option } from 'commander';
import type { CliContext } from '../cli-context.js';
import {
  addAgentOptions,
  maxIterOption,
  noToolOutputOption,
  parseMaxIter,
  parseToolCallsPerAction,
  type AgentCommandOptions,
} from '../agent/agent-flags.js';
import { outputOption, parseOutputFormat } from '../output-format.js';

export function solveCommand(context: CliContext): Command {
  const command = new Command('solve')
    .summary('work on a problem step by step until the model has an answer')
    .description(
      'Let the model investigate iteratively: each round it thinks, runs tools and reads the results, for ' +
        'up to --max-iter rounds, then gives its answer. Shows Thought, Action, Observation and Answer. ' +
        "-a prints only the answer; -nt (--no-tool-output) leaves out the commands' output. " +
        'INSTRUCTION `-` reads it from stdin. -o json prints the answer, the commands with their exit codes ' +
        'and durations, the tokens and the stop reason as one JSON object. Saved as a session. Exit 0 when ' +
        'answered, 3 when the model was still calling tools after --max-iter rounds.',
    )
    .argument('<instruction>', 'the problem to solve, in plain words; - reads stdin')
    .addOption(maxIterOption())
    .addOption(new Option('-a, --answer-only', 'print only the final answer'));
  command.addOption(noToolOutputOption());
  command.addOption(outputOption(['json', 'jsonl']));
  addAgentOptions(command, context);
  command.action(
    async (
      instruction: string,
      options: AgentCommandOptions & {
        maxIter?: string;
        answerOnly?: boolean;
        toolOutput: boolean;
        output?: string;
      },
    ) => {
      const maxIter = parseMaxIter(options.maxIter);
      const format = parseOutputFormat(options.output, ['json', 'jsonl']);
      const toolCallsPerStep = parseToolCallsPerAction(options.toolCallsPerAction);
      const { runInstruction } = await import('../agent/run-instruction.js');
      const all = !options.answerOnly;
      process.exitCode = await runInstruction({
        instruction,
        command,
        context,
        kind: 'solve',
        review: Boolean(options.review),
        yes: Boolean(options.yes),
        maxSteps: maxIter + 1,
        toolCallsPerStep,
        limitHint: 'raise --max-iter',
        format,
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
