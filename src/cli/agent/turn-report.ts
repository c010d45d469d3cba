import type { AgentEvent } from '../../agent/agent-events.js';
import type { TokenUsage } from '../../agent/providers/model-prices.js';
import type { SessionCommand, SessionTurn } from '../../sessions/session-record.js';
import type { Colors } from '../terminal/terminal-style.js';
import type { OpenedAgent } from './open-agent.js';

/** The JSON `run -o json` and `solve -o json` print: one object, when the turn is over. */
export interface TurnReport extends SessionTurn {
  sessionId: string;
  model: string;
  runtime: string;
  target: Record<string, string>;
  policyProfile: string;
}

export function turnReport(agent: OpenedAgent, turn: SessionTurn): TurnReport {
  return {
    sessionId: agent.sessionId,
    model: agent.modelName,
    runtime: agent.runtime.name,
    target: agent.runtime.target(),
    policyProfile: agent.runtime.profile,
    ...turn,
  };
}

/**
 * `-o jsonl`: one JSON object per line as the turn goes: `start`, `thought`, `command` (when it
 * finished, or was refused or invalid), `answer`, and `end` with the whole report.
 */
export class JsonlWriter {
  readonly #out: NodeJS.WritableStream;
  /** The current step's text, and whether it was already written as a thought. */
  #step = { number: 0, text: '', written: false };

  constructor(out: NodeJS.WritableStream) {
    this.#out = out;
  }

  write(event: Record<string, unknown>): void {
    this.#out.write(`${JSON.stringify(event)}\n`);
  }

  start(agent: OpenedAgent, instruction: string): void {
    this.write({
      type: 'start',
      sessionId: agent.sessionId,
      model: agent.modelName,
      runtime: agent.runtime.name,
      target: agent.runtime.target(),
      policyProfile: agent.runtime.profile,
      instruction,
    });
  }

  /** What an agent event (and the command it recorded, if any) means for the stream. */
  event(event: AgentEvent, command: SessionCommand | undefined): void {
    if (event.type === 'step-start') this.#step = { number: event.step, text: '', written: false };
    if (event.type === 'text-delta') this.#step.text += event.text;
    // A step's text is a thought once it calls a tool: written before the command it led to.
    if (event.type === 'tool-call-start' || event.type === 'tool-call-invalid') this.#thought();
    if (command) {
      this.write({ type: 'command', step: 'step' in event ? event.step : undefined, ...command });
      return;
    }
    if (event.type !== 'step-finish') return;
    if (event.toolCalls > 0) {
      this.#thought();
      return;
    }
    if (event.text.trim() === '') return;
    this.write({
      type: 'answer',
      step: event.step,
      text: event.text,
      ...(event.usage ? { usage: event.usage } : {}),
    });
  }

  #thought(): void {
    if (this.#step.written || this.#step.text.trim() === '') return;
    this.#step.written = true;
    this.write({ type: 'thought', step: this.#step.number, text: this.#step.text });
  }

  end(report: TurnReport): void {
    this.write({ type: 'end', ...report });
  }
}

/** `tokens 1,234 in · 56 out · ≈ $0.0042 · 3 commands · 12.3 s`, shown after a turn on a terminal. */
export function usageLine(turn: SessionTurn, colors: Colors): string {
  const parts = [`tokens ${formatTokens(turn.usage)}`];
  if (turn.costUsd !== undefined) parts.push(`≈ ${formatCost(turn.costUsd)}`);
  const commands = turn.commands.length;
  if (commands > 0) parts.push(`${commands} command${commands === 1 ? '' : 's'}`);
  parts.push(`${(turn.durationMs / 1000).toFixed(1)} s`);
  return colors.dim(parts.join(' · '));
}

export function formatTokens(usage: TokenUsage): string {
  return `${usage.inputTokens.toLocaleString('en-US')} in · ${usage.outputTokens.toLocaleString('en-US')} out`;
}

/** Dollars with enough digits to be more than zero for one cheap turn. */
export function formatCost(usd: number): string {
  if (usd === 0) return '$0';
  return usd >= 1 ? `$${usd.toFixed(2)}` : usd >= 0.01 ? `$${usd.toFixed(3)}` : `$${usd.toFixed(4)}`;
}
