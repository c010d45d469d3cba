import type { ModelMessage } from 'ai';
import type { TokenUsage } from '../agent/providers/model-prices.js';

/** Version of the session file format. */
export const SESSION_FORMAT_VERSION = 1;

/** Why a turn ended. */
export type StopReason =
  /** The model answered. */
  | 'answer'
  /** `run -no`: the tool calls ran, no observation was asked for. */
  | 'tool-calls-only'
  /** The model was still calling tools at the step limit (`--max-iter`). */
  | 'step-limit'
  /** Ctrl-C, SIGTERM or SIGHUP. */
  | 'interrupted'
  /** The user ended the turn in review (`q`). */
  | 'quit'
  /** The model could not be used (an error the turn could not recover from). */
  | 'error';

/** One tool call of a turn, as it ran (or did not). */
export interface SessionCommand {
  /** `ShellCommand`, or the other tool's name. */
  tool: string;
  /** The command that ran (after an edit in review), or what the tool did. */
  command: string;
  /** The command as the model proposed it, when the user edited it. */
  proposed?: string;
  startedAt: string;
  durationMs: number;
  /** Null when it had none: not run, killed, timed out. */
  exitCode: number | null;
  /** False when the policy or the reviewer refused it, or the call was invalid. */
  ran: boolean;
  timedOut?: boolean;
  cancelled?: boolean;
  notice?: string;
  /** Output as the model saw it (masked, cut in the middle when long). Only in `-o json`, not in sessions. */
  stdout?: string;
  stderr?: string;
}

/** One instruction and everything that followed it until the model answered (or stopped). */
export interface SessionTurn {
  instruction: string;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  /** Model calls. */
  steps: number;
  stopReason: StopReason;
  /** The model's answer (or observation); empty when it gave none. */
  answer: string;
  /** Text the model wrote in steps that called tools. */
  thoughts: string[];
  commands: SessionCommand[];
  usage: TokenUsage;
  /** Estimated cost in USD; absent when the model's price is not known. */
  costUsd?: number;
  /** The error that ended the turn, for `stopReason: 'error'`. */
  error?: string;
}

/** What `sessions list` shows without reading a whole session. */
export interface SessionSummary {
  version: typeof SESSION_FORMAT_VERSION;
  id: string;
  /** The command that started it. */
  kind: 'run' | 'solve' | 'chat';
  createdAt: string;
  updatedAt: string;
  /** As `-m` names it. */
  model: string;
  runtime: string;
  /** Facts naming the target: host, container, pod... */
  target: Record<string, string>;
  policyProfile?: string;
  turns: number;
  /** The first instruction, cut to one line. */
  title: string;
  usage: TokenUsage;
  costUsd?: number;
  lastStopReason?: StopReason;
}

/** A saved session: the summary, then the conversation as the model saw it. */
export interface SessionRecord extends SessionSummary {
  provider: string;
  modelId: string;
  /** The system prompt of the last turn (target facts included). */
  system: string;
  /** The whole conversation as the model saw it: instructions, tool calls and their results. */
  messages: ModelMessage[];
  history: SessionTurn[];
}
