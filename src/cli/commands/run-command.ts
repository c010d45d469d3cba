import { Command, Option } from 'commander';
import type { CliContext } from '../cli-context.js';
import {
  addAgentOptions,
  noToolOutputOption,
  parseToolCallsPerAction,
  type AgentCommandOptions,
} from '../agent/agent-flags.js';
import { outputOption, parseOutputFormat } from '../output-format.js';

/** Model calls of `run`: one that may call tools, one that must give the observation. */
const RUN_STEPS = 2;

export function runCommand(context: CliContext): Command {
  const command = new Command('run')
    .summary('run one request: the model runs commands once, then gives its observation')
    .description(
      'Send one instruction to the model. It may call tools once (several commands in parallel), then it ' +
        'must answer from what it saw: its observation. Prints the tool calls with their output, then the ' +
        'observation. -nt (--no-tool-output) prints only the observation; -no (--no-observation) runs the ' +
        'tool calls and prints them with their output, without asking the model for an observation. ' +
        'INSTRUCTION `-` reads it from stdin. -o json prints the answer, the commands with their exit ' +
        'codes and durations, the tokens and the stop reason as one JSON object. Saved as a session ' +
        '(`opsmate sessions list`). Exit 0 when answered, 3 when the model was still calling tools.',
    )
    .argument('<instruction>', 'what to do or find out, in plain words; - reads stdin');
  command.addOption(noToolOutputOption());
  command.addOption(new Option('--no-observation', 'do not ask for (or print) the observation (short: -no)'));
  command.addOption(outputOption(['json', 'jsonl']));
  addAgentOptions(command, context);
  command.action(
    async (
      instruction: string,
      options: AgentCommandOptions & { toolOutput: boolean; observation: boolean; output?: string },
    ) => {
      const format = parseOutputFormat(options.output, ['json', 'jsonl']);
      const toolCallsPerStep = parseToolCallsPerAction(options.toolCallsPerAction);
      const { runInstruction } = await import('../agent/run-instruction.js');
      process.exitCode = await runInstruction({
        instruction,
        command,
        context,
        kind: 'run',
        review: Boolean(options.review),
        yes: Boolean(options.yes),
        maxSteps: RUN_STEPS,
        // As in Opsmate: without the observation, the second model call is not made at all.
        toolCallsOnly: !options.observation,
        toolCallsPerStep,
        limitHint: 'try `opsmate solve`, which lets it take more steps',
        format,
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
