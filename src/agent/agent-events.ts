import type { OutputChunk } from '../runtime/contract.js';
import type { TokenUsage } from './providers/model-prices.js';
import type { ToolResult } from './tools/tool-contract.js';

/**
 * What happens during one turn of the agent, in order, for a user interface to show. Steps count
 * model calls from 1. Events of one tool call share its `callId`.
 */
export type AgentEvent =
  /** A request to the model is about to be sent. */
  | { type: 'step-start'; step: number }
  /** Text the model is writing: a thought before tool calls, or the answer. */
  | { type: 'text-delta'; step: number; text: string }
  /** Reasoning from models that expose it. */
  | { type: 'reasoning-delta'; step: number; text: string }
  /** The model began writing a tool call; its arguments are not known yet. */
  | { type: 'tool-call-begin'; step: number; callId: string; toolName: string }
  /** A call passed validation and is about to run (review, if any, comes next). */
  | { type: 'tool-call-start'; step: number; callId: string; toolName: string; title: string; input: unknown }
  /** Live output of a running command. */
  | { type: 'tool-output'; callId: string; chunk: OutputChunk }
  | { type: 'tool-call-end'; step: number; callId: string; toolName: string; result: ToolResult }
  /** A call the model got wrong (bad arguments, unknown tool); the message went back to the model. */
  | { type: 'tool-call-invalid'; step: number; callId: string; toolName: string; message: string }
  /** The model finished one response; `toolCalls` is 0 when that response is the answer. */
  | { type: 'step-finish'; step: number; text: string; toolCalls: number; usage?: TokenUsage };

export type AgentEventListener = (event: AgentEvent) => void;
