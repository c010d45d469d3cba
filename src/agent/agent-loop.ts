import {
  jsonSchema,
  stepCountIs,
  streamText,
  tool,
  type LanguageModelUsage,
  type ModelMessage,
  type ToolSet,
} from 'ai';
import { z } from 'zod';
import { errorMessage } from '../errors/opsmate-error.js';
import { wrapUntrusted } from './tools/untrusted-text.js';
import type { AgentEventListener } from './agent-events.js';
import { explainModelFailure, modelFailure } from './providers/model-failure.js';
import { addUsage, NO_USAGE, type TokenUsage } from './providers/model-prices.js';
import type { ModelCallSettings } from './providers/model-settings.js';
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

/**
 * Told to a model on its last step when its provider cannot be asked for no tool calls without
 * losing the tool calls and results of the conversation (Bedrock drops them with the tools).
 */
const LAST_STEP_NOTE =
  '\n\nThis is your last step: answer now from the results you have. Do not call any tool; a tool call now is not run.';

export interface AgentSessionOptions {
  model: ResolvedModel;
  system: string;
  tools: readonly ToolDefinition[];
  toolContext: ToolContext;
  /** Retries of a failed model call (429, 5xx), with backoff. Default: the SDK's (2). */
  maxRetries?: number;
  /** Warnings from the SDK (an unsupported setting...), which it would otherwise print itself. */
  onWarning?: (message: string) => void;
  /** The conversation so far, for a resumed session. */
  history?: readonly ModelMessage[];
  /** Temperature, output limit and provider options (reasoning effort, thinking) of every call. */
  callSettings?: ModelCallSettings;
  /**
   * Most tool calls the model may make in one step (`--tool-calls-per-action`); calls beyond it
   * are not run and the model is told so. Default: no limit.
   */
  toolCallsPerStep?: number;
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
  /**
   * One model call only: its tool calls run and the turn ends there, without asking the model
   * for an observation (`run -no`). `maxSteps` is then ignored.
   */
  toolCallsOnly?: boolean;
}

export interface TurnOutcome {
  /** The model's last text: its answer, or empty when it stopped at the step limit. */
  text: string;
  steps: number;
  aborted: boolean;
  /** The last step still asked for tools: the model never answered. */
  stoppedAtLimit: boolean;
  /** Tokens the turn used, as the provider reported them (zeros when it reports none). */
  usage: TokenUsage;
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
  /** Tool calls started in each step, for `toolCallsPerStep`. */
  #callsInStep = new Map<number, number>();
  /** The step (from 1) whose tool calls must not run: the last, where the tools stayed offered. */
  #lastStep: number | undefined;

  constructor(options: AgentSessionOptions) {
    this.#options = options;
    this.#history = [...(options.history ?? [])];
  }

  get history(): readonly ModelMessage[] {
    return this.#history;
  }

  clear(): void {
    this.#history = [];
  }

  async send(instruction: string, options: SendOptions): Promise<TurnOutcome> {
    const maxSteps = options.toolCallsOnly ? 1 : Math.max(MIN_STEPS, options.maxSteps);
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
    let usage: TokenUsage = NO_USAGE;
    this.#callsInStep.clear();
    this.#lastStep = undefined;
    this.#routeSdkWarnings();
    const result = streamText({
      model: this.#options.model.model,
      system: this.#options.system,
      messages: [...this.#history, userMessage],
      tools: this.#toolSet(() => step, emit),
      stopWhen: stepCountIs(maxSteps),
      prepareStep: ({ stepNumber }) => {
        if (stepNumber < maxSteps - 1 || options.toolCallsOnly) return {};
        if (!this.#options.model.keepsToolsOnLastStep) return { toolChoice: 'none' };
        this.#lastStep = stepNumber + 1;
        return { system: `${this.#options.system}${LAST_STEP_NOTE}` };
      },
      ...this.#options.callSettings,
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
        case 'finish-step': {
          lastText = stepText;
          lastToolCalls = stepToolCalls;
          const stepUsage = usageOf(part.usage);
          usage = addUsage(usage, stepUsage);
          emit({ type: 'step-finish', step, text: stepText, toolCalls: stepToolCalls, usage: stepUsage });
          break;
        }
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
    if (failure !== undefined && !aborted && !kept) {
      throw await explainModelFailure(modelFailure(failure, this.#options.model), this.#options.model);
    }
    if (aborted || kept) {
      const note = aborted
        ? '(interrupted by the user before this turn finished)'
        : '(stopped: the step limit was reached while still calling tools)';
      this.#history.push(userMessage, { role: 'assistant', content: `${stepText}\n${note}`.trim() });
      if (kept) return { text: '', steps: step, aborted: false, stoppedAtLimit: true, usage };
    } else {
      const response = await result.response;
      this.#history.push(userMessage, ...response.messages);
    }
    return {
      text: aborted ? '' : lastText,
      steps: step,
      aborted,
      stoppedAtLimit: !aborted && !options.toolCallsOnly && lastToolCalls > 0,
      usage,
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
    if (step === this.#lastStep) {
      const message =
        'Not run: the step limit was reached, so no more tools run in this turn. Answer from the results you have.';
      emit({ type: 'tool-call-invalid', step, callId, toolName: definition.name, message });
      return { llmContent: message, display: { kind: 'text', text: message }, isError: true };
    }
    const limit = this.#options.toolCallsPerStep;
    const made = (this.#callsInStep.get(step) ?? 0) + 1;
    this.#callsInStep.set(step, made);
    if (limit !== undefined && made > limit) {
      const message = `Not run: at most ${limit} tool call${limit === 1 ? '' : 's'} per step are allowed (--tool-calls-per-action). Make one call, read its result, then decide the next.`;
      emit({ type: 'tool-call-invalid', step, callId, toolName: definition.name, message });
      return { llmContent: message, display: { kind: 'text', text: message }, isError: true };
    }
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

/** The SDK's usage of a step, with absent counts as zero. */
function usageOf(usage: LanguageModelUsage | undefined): TokenUsage {
  const input = usage?.inputTokens ?? 0;
  const output = usage?.outputTokens ?? 0;
  const cached = usage?.inputTokenDetails?.cacheReadTokens;
  const reasoning = usage?.outputTokenDetails?.reasoningTokens;
  return {
    inputTokens: input,
    outputTokens: output,
    totalTokens: usage?.totalTokens ?? input + output,
    ...(cached !== undefined ? { cachedInputTokens: cached } : {}),
    ...(reasoning !== undefined ? { reasoningTokens: reasoning } : {}),
  };
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
