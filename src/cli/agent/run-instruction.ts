import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { ConfigError, errorMessage, OpsmateError } from '../../errors/opsmate-error.js';
import { stopReasonOf } from '../../sessions/turn-recorder.js';
import { abortOnSignals, EXIT_INTERRUPTED } from '../abort-on-signals.js';
import type { CliContext } from '../cli-context.js';
import { writeJson, type OutputFormat } from '../output-format.js';
import { AgentRenderer, type RenderMode } from '../render/agent-renderer.js';
import { formatRunHeader, formatWhere } from '../render/run-header.js';
import { colorsFor } from '../terminal/terminal-style.js';
import { EXIT_STEP_LIMIT } from './agent-flags.js';
import { openAgent, sessionWhere } from './open-agent.js';
import { PIPED_INPUT_HALF_BYTES, readPipedInput, stdinIsPipedData, withPipedInput } from './piped-input.js';
import { terminalMarkdown } from './terminal-markdown.js';
import { SessionRecorder } from './session-recorder.js';
import { formatReferences, referencesJson } from './session-knowledge.js';
import { JsonlWriter, turnReport, usageLine } from './turn-report.js';

/**
 * One instruction, one turn: `run` (maxSteps 2: tool calls, then the observation; with
 * `toolCallsOnly`, the tool calls only) and `solve` (up to --max-iter rounds of tool calls, then
 * the answer). Saved as a session. Returns the exit status.
 */
export async function runInstruction(options: {
  instruction: string;
  command: Command;
  context: CliContext;
  kind: 'run' | 'solve';
  review: boolean;
  /** `-y/--yes`. */
  yes: boolean;
  maxSteps: number;
  /** `run -no`: one model call; its tool calls run, no observation is asked for. */
  toolCallsOnly?: boolean;
  toolCallsPerStep?: number | undefined;
  /** What to suggest when the model is still calling tools at the last step. */
  limitHint: string;
  mode: RenderMode;
  format: OutputFormat;
}): Promise<number> {
  const { context, format } = options;
  let instruction = readInstruction(options.instruction);
  const interrupt = abortOnSignals();
  // `journalctl -u nginx | opsmate solve "why did it crash?"`: the piped text is context.
  if (options.instruction !== '-' && stdinIsPipedData()) {
    const piped = await readPipedInput(process.stdin, interrupt.signal).catch(() => undefined);
    if (piped && piped.bytes > 0) {
      instruction = withPipedInput(instruction, piped);
      context.logger.debug(`attached ${piped.bytes} bytes of stdin`);
      if (piped.cutBytes > 0 || context.stderr.isTTY) {
        context.stderr.write(
          `opsmate: stdin attached (${piped.lines} lines, ${piped.bytes} bytes${piped.cutBytes > 0 ? `; the model gets the first and last ${PIPED_INPUT_HALF_BYTES / 1024} KiB, ${piped.cutBytes} bytes in the middle left out` : ''})\n`,
        );
      }
    }
  }
  const quit = new AbortController();
  const signal = AbortSignal.any([interrupt.signal, quit.signal]);
  try {
    const agent = await openAgent({
      command: options.command,
      context,
      review: options.review,
      yes: options.yes,
      signal: interrupt.signal,
      // The agent prints `$ command` only in text mode with actions shown.
      reviewShowsCommand: format !== 'text' || !options.mode.actions,
      onQuitTurn: () => quit.abort(),
      stdoutIsData: format !== 'text',
      ...(options.toolCallsPerStep !== undefined ? { toolCallsPerStep: options.toolCallsPerStep } : {}),
      maxSteps: options.maxSteps,
    });
    // On a terminal only, as chat does: piped, stderr stays the error lines a script reads.
    if (context.stderr.isTTY)
      context.stderr.write(
        `${formatRunHeader(
          {
            command: options.command.name(),
            model: `${agent.model.provider}:${agent.model.modelId}`,
            ...sessionWhere(agent),
            profile: agent.runtime.profile,
            review: options.review ? 'on' : options.yes ? '--yes' : 'off',
          },
          colorsFor(context.stderr, context.env),
        )}\n`,
      );
    const renderer =
      format === 'text'
        ? new AgentRenderer({
            out: context.stdout,
            mode: options.mode,
            colors: agent.colors,
            spinner: agent.spinner,
            where: formatWhere(agent.runtime.name, agent.runtime.target()),
            ...(context.stdout.isTTY
              ? {
                  markdown: await terminalMarkdown(context),
                  charts: {
                    columns: context.stdout.columns || 80,
                    color: colorsFor(context.stdout, context.env).isColorSupported,
                  },
                }
              : {}),
          })
        : undefined;
    const jsonl = format === 'jsonl' ? new JsonlWriter(context.stdout) : undefined;
    const recorder = new SessionRecorder({
      context,
      agent,
      kind: options.kind,
      enabled: agent.settings.saveSessions,
    });
    const turn = recorder.beginTurn(instruction);
    try {
      agent.runtime.setAuditContext({ instruction });
      jsonl?.start(agent, instruction);
      let outcome;
      renderer?.begin();
      try {
        outcome = await agent.session.send(instruction, {
          maxSteps: options.maxSteps,
          signal,
          ...(options.toolCallsOnly ? { toolCallsOnly: true } : {}),
          onEvent: (event) => {
            renderer?.handle(event);
            const command = turn.handle(event);
            jsonl?.event(event, command);
          },
        });
      } catch (error) {
        renderer?.finish();
        const record = recorder.endTurn(turn, { stopReason: 'error', error: errorMessage(error) });
        if (format === 'json')
          writeJson(context.stdout, { ...turnReport(agent, record), ...errorFields(error) });
        if (jsonl) jsonl.end({ ...turnReport(agent, record), ...errorFields(error) });
        throw error;
      }
      renderer?.finish();
      const references = agent.knowledge?.references(outcome.text ?? renderer?.answer ?? '') ?? [];
      if (renderer && references.length > 0)
        context.stdout.write(`\n${formatReferences(references, agent.colors)}`);
      const stopReason = stopReasonOf(outcome, {
        quit: quit.signal.aborted && !interrupt.signal.aborted,
        toolCallsOnly: options.toolCallsOnly === true,
      });
      const record = recorder.endTurn(turn, { outcome, stopReason });
      const report = {
        ...turnReport(agent, record),
        ...(references.length > 0 ? { references: referencesJson(references) } : {}),
      };
      if (format === 'json') writeJson(context.stdout, report);
      else if (jsonl) jsonl.end(report);
      else if (context.stderr.isTTY)
        context.stderr.write(`${usageLine(record, colorsFor(context.stderr, context.env))}\n`);
      if (stopReason === 'quit') {
        context.stderr.write('opsmate: stopped: you ended the turn in review\n');
        return EXIT_INTERRUPTED;
      }
      if (outcome.aborted) {
        if (!interrupt.quiet) context.stderr.write('opsmate: interrupted\n');
        return interrupt.exitCode();
      }
      if (outcome.stoppedAtLimit) {
        context.stderr.write(
          `opsmate: error: no answer after ${outcome.steps} model calls: the model was still calling tools\n` +
            `opsmate: hint: ${options.limitHint}\n`,
        );
        return EXIT_STEP_LIMIT;
      }
      return 0;
    } finally {
      renderer?.finish();
      await agent.close();
    }
  } catch (error) {
    if (interrupt.signal.aborted) {
      if (!interrupt.quiet) context.stderr.write('opsmate: interrupted\n');
      return interrupt.exitCode();
    }
    throw error;
  } finally {
    interrupt.dispose();
  }
}

function errorFields(error: unknown): { error: string; hint?: string } {
  return {
    error: errorMessage(error),
    ...(OpsmateError.isInstance(error) && error.hint ? { hint: error.hint } : {}),
  };
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
