import type { AgentEvent } from '../agent/agent-events.js';
import type { TurnOutcome } from '../agent/agent-loop.js';
import {
  addUsage,
  estimateCost,
  NO_USAGE,
  type ModelPrice,
  type TokenUsage,
} from '../agent/providers/model-prices.js';
import { isNotRunResult } from '../runtime/command-review.js';
import type { SessionCommand, SessionTurn, StopReason } from './session-record.js';

/**
 * Builds the record of one turn from the agent's events: the commands with their exit codes and
 * durations, the thoughts, the answer, the tokens. Feed it every event, then call `finish`.
 */
export class TurnRecorder {
  readonly #instruction: string;
  readonly #started = new Date();
  readonly #price: ModelPrice | undefined;
  readonly #commands: SessionCommand[] = [];
  readonly #running = new Map<string, { tool: string; title: string; startedAt: Date }>();
  readonly #thoughts: string[] = [];
  #usage: TokenUsage = NO_USAGE;
  #steps = 0;
  #answer = '';

  constructor(options: { instruction: string; price?: ModelPrice | undefined }) {
    this.#instruction = options.instruction;
    this.#price = options.price;
  }

  /** The commands recorded so far. */
  get commands(): readonly SessionCommand[] {
    return this.#commands;
  }

  handle(event: AgentEvent): SessionCommand | undefined {
    switch (event.type) {
      case 'step-start':
        this.#steps = Math.max(this.#steps, event.step);
        return undefined;
      case 'tool-call-start':
        this.#running.set(event.callId, { tool: event.toolName, title: event.title, startedAt: new Date() });
        return undefined;
      case 'tool-call-invalid': {
        const command: SessionCommand = {
          tool: event.toolName,
          command: '',
          startedAt: new Date().toISOString(),
          durationMs: 0,
          exitCode: null,
          ran: false,
          notice: `invalid call: ${event.message.split('\n')[0] ?? ''}`,
        };
        this.#commands.push(command);
        return command;
      }
      case 'tool-call-end': {
        const started = this.#running.get(event.callId);
        this.#running.delete(event.callId);
        const startedAt = started?.startedAt ?? new Date();
        const display = event.result.display;
        let command: SessionCommand;
        if (display.kind === 'command') {
          const result = display.result;
          command = {
            tool: event.toolName,
            command: result.command,
            ...(display.editedFrom !== undefined ? { proposed: display.editedFrom } : {}),
            startedAt: startedAt.toISOString(),
            durationMs: Math.round(result.durationMs),
            exitCode: result.exitCode,
            ran: !isNotRunResult(result),
            ...(result.timedOut ? { timedOut: true } : {}),
            ...(result.cancelled ? { cancelled: true } : {}),
            ...(result.notice ? { notice: result.notice } : {}),
            stdout: result.stdout,
            stderr: result.stderr,
          };
        } else {
          command = {
            tool: event.toolName,
            command: started?.title ?? event.toolName,
            startedAt: startedAt.toISOString(),
            durationMs: Date.now() - startedAt.getTime(),
            exitCode: event.result.isError ? 1 : 0,
            ran: true,
            ...(event.result.isError ? { notice: display.text.split('\n')[0] ?? '' } : {}),
          };
        }
        this.#commands.push(command);
        return command;
      }
      case 'step-finish':
        if (event.usage) this.#usage = addUsage(this.#usage, event.usage);
        if (event.toolCalls > 0 && event.text.trim() !== '') this.#thoughts.push(event.text.trim());
        if (event.toolCalls === 0) this.#answer = event.text;
        return undefined;
      default:
        return undefined;
    }
  }

  /** The turn's record. `outcome` is undefined when the turn failed with `error`. */
  finish(options: { outcome?: TurnOutcome; stopReason: StopReason; error?: string }): SessionTurn {
    const finished = new Date();
    const usage = options.outcome?.usage ?? this.#usage;
    const cost = estimateCost(usage, this.#price);
    return {
      instruction: this.#instruction,
      startedAt: this.#started.toISOString(),
      finishedAt: finished.toISOString(),
      durationMs: finished.getTime() - this.#started.getTime(),
      steps: options.outcome?.steps ?? this.#steps,
      stopReason: options.stopReason,
      answer: options.outcome?.text ?? this.#answer,
      thoughts: this.#thoughts,
      commands: this.#commands,
      usage,
      ...(cost !== undefined ? { costUsd: cost } : {}),
      ...(options.error !== undefined ? { error: options.error } : {}),
    };
  }
}

/** The stop reason of a turn that returned. */
export function stopReasonOf(
  outcome: TurnOutcome,
  options: { quit?: boolean; toolCallsOnly?: boolean },
): StopReason {
  if (outcome.aborted) return options.quit ? 'quit' : 'interrupted';
  if (outcome.stoppedAtLimit) return 'step-limit';
  if (options.toolCallsOnly) return 'tool-calls-only';
  return 'answer';
}
