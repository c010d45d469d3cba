import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { ConfigError } from '../../errors/opsmate-error.js';
import { abortOnSignals } from '../abort-on-signals.js';
import type { CliContext } from '../cli-context.js';
import { AgentRenderer, type RenderMode } from '../render/agent-renderer.js';
import { formatRunHeader } from '../render/run-header.js';
import { colorsFor } from '../terminal/terminal-style.js';
import { openAgent } from './open-agent.js';

/**
 * One instruction, one turn: `run` (maxSteps 2: tool calls, then the observation) and `solve`
 * (up to --max-iter rounds of tool calls, then the answer). Returns the exit status.
 */
export async function runInstruction(options: {
  instruction: string;
  command: Command;
  context: CliContext;
  review: boolean;
  maxSteps: number;
  /** What to suggest when the model is still calling tools at the last step. */
  limitHint: string;
  mode: RenderMode;
}): Promise<number> {
  const { context } = options;
  const instruction = readInstruction(options.instruction);
  const interrupt = abortOnSignals();
  try {
    const agent = await openAgent({
      command: options.command,
      context,
      review: options.review,
      signal: interrupt.signal,
      maxSteps: options.maxSteps,
    });
    // On a terminal only, as chat does: piped, stderr stays the error lines a script reads.
    if (context.stderr.isTTY)
      context.stderr.write(
        `${formatRunHeader(
          {
            command: options.command.name(),
            model: `${agent.model.provider}:${agent.model.modelId}`,
            runtime: agent.runtime.name,
            target: agent.runtime.target(),
            profile: agent.runtime.profile,
            review: options.review ? 'on' : 'off',
          },
          colorsFor(context.stderr, context.env),
        )}\n`,
      );
    const renderer = new AgentRenderer({
      out: context.stdout,
      mode: options.mode,
      colors: agent.colors,
      spinner: agent.spinner,
    });
    try {
      agent.runtime.setAuditContext({ instruction });
      const outcome = await agent.session.send(instruction, {
        maxSteps: options.maxSteps,
        signal: interrupt.signal,
        onEvent: (event) => renderer.handle(event),
      });
      renderer.finish();
      if (outcome.aborted) {
        context.stderr.write('opsmate: interrupted\n');
        return interrupt.exitCode();
      }
      if (outcome.stoppedAtLimit) {
        context.logger.error(
          `no answer after ${outcome.steps} model calls: the model was still calling tools (${options.limitHint})`,
        );
        return 1;
      }
      return 0;
    } finally {
      renderer.finish();
      await agent.close();
    }
  } catch (error) {
    if (interrupt.signal.aborted) {
      context.stderr.write('opsmate: interrupted\n');
      return interrupt.exitCode();
    }
    throw error;
  } finally {
    interrupt.dispose();
  }
}

/** The INSTRUCTION argument; `-` reads it from stdin. */
export function readInstruction(text: string): string {
  const instruction = text === '-' ? readFileSync(0, 'utf8') : text;
  if (instruction.trim() === '') {
    throw new ConfigError(text === '-' ? 'stdin held no instruction' : 'the instruction is empty', {
      hint: 'say what to look at, e.g. opsmate run "why is nginx returning 502?"',
    });
  }
  return instruction.trim();
}
