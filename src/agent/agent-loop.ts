import { jsonSchema, stepCountIs, streamText, tool, type ModelMessage, type ToolSet } from 'ai';
import { z } from 'zod';
import { errorMessage } from '../errors/opsmate-error.js';
import { wrapUntrusted } from './tools/untrusted-text.js';
import type { AgentEventListener } from './agent-events.js';
import { modelFailure } from './providers/model-failure.js';
import type { ResolvedModel } from './providers/resolve-model.js';
import {
  buildToolCall,
  toolDescription,
  type ToolContext,
  type ToolDefinition,
  type ToolResult,
} from './tools/tool-contract.js';

/** Fewest model calls a turn may have: one that calls tools, one that answers. */
const MIN_STEPS = 2;

export interface AgentSessionOptions {
  model: ResolvedModel;
  system: string;
  tools: readonly ToolDefinition[];
  toolContext: ToolContext;
  /** Retries of a failed model call (429, 5xx), with backoff. Default: the SDK's (2). */
  maxRetries?: number;
  /** Warnings from the SDK (an unsupported setting...), which it would otherwise print itself. */
  onWarning?: (message: string) => void;
}

export interface SendOptions {
  /**
   * Most model calls in this turn. Every call but the last may run tools; the last is asked to
   * answer without tools, so a turn ends with an answer rather than mid-investigation.
   */
  maxSteps: number;
  /** Aborting stops the model and kills a running command; the turn resolves `aborted: true`. */
  signal?: AbortSignal;
  onEvent?: AgentEventListener;
}

export interface TurnOutcome {
  /** The model's last text: its answer, or empty when it stopped at the step limit. */
  text: string;
  steps: number;
  aborted: boolean;
  /** The last step still asked for tools: the model never answered. */
  stoppedAtLimit: boolean;
}

/**
 * A conversation with the model about one target. Each `send` is one turn: the model calls tools
 * until it answers; the turn, tool calls included, joins the history the next turn sees. Core:
 * reports through events, never prints. Rejects only for model failures, as an OpsmateError.
 */
export class AgentSession {
  readonly #options: AgentSessionOptions;
  #history: ModelMessage[] = [];
  #queue: Promise<unknown> = Promise.resolve();

  constructor(options: AgentSessionOptions) {
    this.#options = options;
  }

  get history(): readonly ModelMessage[] {
    return this.#history;
  }

  clear(): void {
    this.#history = [];
  }

  async send(instruction: string, options: SendOptions): Promise<TurnOutcome> {
    const maxSteps = Math.max(MIN_STEPS, options.maxSteps);
    const emit: AgentEventListener = (event) => {
      try {
        options.onEvent?.(event);
      } catch {
        // A broken listener must not break the turn.
      }
    };
    const userMessage: ModelMessage = { role: 'user', content: instruction };
    let step = 0;
    let stepText = '';
    let stepToolCalls = 0;
    let lastText = '';
    let lastToolCalls = 0;
    let failure: unknown;
    let aborted = false;
    this.#routeSdkWarnings();
    const result = streamText({
      model: this.#options.model.model,
      system: this.#options.system,
      messages: [...this.#history, userMessage],
      tools: this.#toolSet(() => step, emit),
      stopWhen: stepCountIs(maxSteps),
      prepareStep: ({ stepNumber }) => (stepNumber >= maxSteps - 1 ? { toolChoice: 'none' } : {}),
      ...(this.#options.maxRetries !== undefined ? { maxRetries: this.#options.maxRetries } : {}),
      ...(options.signal ? { abortSignal: options.signal } : {}),
      // Failures arrive as stream parts below; the default handler would print them.
      onError: () => {},
    });
    for await (const part of result.fullStream) {
      switch (part.type) {
        case 'start-step':
          step++;
          stepText = '';
          stepToolCalls = 0;
          emit({ type: 'step-start', step });
          break;
        case 'text-delta':
          stepText += part.text;
          emit({ type: 'text-delta', step, text: part.text });
          break;
        case 'reasoning-delta':
          emit({ type: 'reasoning-delta', step, text: part.text });
          break;
        case 'tool-input-start':
          emit({ type: 'tool-call-begin', step, callId: part.id, toolName: part.toolName });
          break;
        case 'tool-call':
          stepToolCalls++;
          break;
        case 'tool-error':
          emit({
            type: 'tool-call-invalid',
            step,
            callId: part.toolCallId,
            toolName: part.toolName,
            message: errorMessage(part.error),
          });
          break;
        case 'finish-step':
          lastText = stepText;
          lastToolCalls = stepToolCalls;
          emit({ type: 'step-finish', step, text: stepText, toolCalls: stepToolCalls });
          break;
        case 'error':
          failure = part.error;
          break;
        case 'abort':
          aborted = true;
          break;
        default:
          break;
      }
    }
    if (options.signal?.aborted) aborted = true;
    // A server that ignores tool_choice "none" on the last step: the model never answered.
    const kept = failure !== undefined && isToolChoiceViolation(failure);
    if (failure !== undefined && !aborted && !kept) throw modelFailure(failure, this.#options.model);
    if (aborted || kept) {
      const note = aborted
        ? '(interrupted by the user before this turn finished)'
        : '(stopped: the step limit was reached while still calling tools)';
      this.#history.push(userMessage, { role: 'assistant', content: `${stepText}\n${note}`.trim() });
      if (kept) return { text: '', steps: step, aborted: false, stoppedAtLimit: true };
    } else {
      const response = await result.response;
      this.#history.push(userMessage, ...response.messages);
    }
    return {
      text: aborted ? '' : lastText,
      steps: step,
      aborted,
      stoppedAtLimit: !aborted && lastToolCalls > 0,
    };
  }

  /**
   * The tools as the SDK wants them. Schemas are sent as JSON Schema without SDK-side validation:
   * each call is validated here, so a bad call becomes a message the model reads and fixes.
   */
  #toolSet(currentStep: () => number, emit: AgentEventListener): ToolSet {
    const entries = this.#options.tools.map((definition) => [
      definition.name,
      tool<unknown, ToolResult>({
        description: toolDescription(definition, this.#options.toolContext.runtime, {
          maxOutputLength: this.#options.toolContext.maxOutputLength,
        }),
        inputSchema: jsonSchema(z.toJSONSchema(definition.inputSchema, { io: 'input' }) as never),
        execute: (rawInput, { toolCallId, abortSignal }) =>
          this.#serially(() =>
            this.#execute({
              definition,
              rawInput,
              callId: toolCallId,
              step: currentStep(),
              emit,
              signal: abortSignal,
            }),
          ),
        toModelOutput: ({ output }) => ({
          type: output.isError ? 'error-text' : 'text',
          value: output.llmContent,
        }),
      }),
    ]);
    return Object.fromEntries(entries) as ToolSet;
  }

  /** The SDK prints warnings through a global hook unless given one; core never prints. */
  #routeSdkWarnings(): void {
    const onWarning = this.#options.onWarning;
    (globalThis as { AI_SDK_LOG_WARNINGS?: unknown }).AI_SDK_LOG_WARNINGS = (report: {
      warnings: unknown[];
    }) => {
      for (const warning of report.warnings) onWarning?.(describeWarning(warning));
    };
  }

  /** Calls run one at a time: the runtime has one shell and the user reviews one command at once. */
  #serially<T>(work: () => Promise<T>): Promise<T> {
    const next = this.#queue.then(work, work);
    this.#queue = next.catch(() => undefined);
    return next;
  }

  async #execute(call: {
    definition: ToolDefinition;
    rawInput: unknown;
    callId: string;
    step: number;
    emit: AgentEventListener;
    signal: AbortSignal | undefined;
  }): Promise<ToolResult> {
    const { definition, callId, step, emit } = call;
    const built = buildToolCall(definition, call.rawInput);
    if (!built.ok) {
      emit({ type: 'tool-call-invalid', step, callId, toolName: definition.name, message: built.message });
      return { llmContent: built.message, display: { kind: 'text', text: built.message }, isError: true };
    }
    emit({
      type: 'tool-call-start',
      step,
      callId,
      toolName: definition.name,
      title: built.title,
      input: built.input,
    });
    const signal = call.signal ?? new AbortController().signal;
    let result: ToolResult;
    try {
      result = await definition.execute(built.input as never, this.#options.toolContext, {
        signal,
        onOutput: (chunk) => emit({ type: 'tool-output', callId, chunk }),
      });
    } catch (error) {
      const message = `${definition.name} failed: ${errorMessage(error)}`;
      // An error may quote the target (a transport's stderr): mask it and hand it over as data.
      const redactor = this.#options.toolContext.redactor;
      const shown = redactor ? redactor.redact(errorMessage(error)).text : errorMessage(error);
      result = {
        llmContent: `${definition.name} failed:\n${wrapUntrusted('error', shown)}`,
        display: { kind: 'text', text: message },
        isError: true,
      };
    }
    emit({ type: 'tool-call-end', step, callId, toolName: definition.name, result });
    return result;
  }
}

function isToolChoiceViolation(error: unknown): boolean {
  return (error as { name?: unknown } | undefined)?.name === 'AI_ToolChoiceViolationError';
}

function describeWarning(warning: unknown): string {
  const fields = warning as {
    type?: string;
    feature?: string;
    setting?: string;
    details?: string;
    message?: string;
  };
  const what = fields.feature ?? fields.setting ?? fields.type ?? 'warning';
  return `model SDK: ${what}${fields.details ? `: ${fields.details}` : ''}${fields.message ? `: ${fields.message}` : ''}`;
}
