import type { IncomingHttpHeaders } from 'node:http';

/** One tool call the fake model makes. `args` given as a string is sent verbatim (even broken JSON). */
export interface FakeToolCall {
  name: string;
  args: unknown;
  id?: string;
}

/** Tokens the fake reports for one answer, in the provider's own usage format. */
export interface FakeUsage {
  input: number;
  output: number;
}

/** One scripted answer of the fake model: text, tool calls, or both. */
export interface FakeMessage {
  text?: string;
  toolCalls?: FakeToolCall[];
  /** Reported usage; default 10 input and 5 output tokens. */
  usage?: FakeUsage;
}

/** What every protocol's reply function gets besides the message. */
export interface ReplyOptions {
  model: string;
  stream: boolean;
  turn: number;
  usage: FakeUsage;
}

/** A scripted failure: an HTTP error in the provider's own error format. */
export interface FakeFailure {
  status: number;
  message?: string;
  /** Extra response headers, e.g. `{ 'retry-after-ms': '10' }`. */
  headers?: Record<string, string>;
}

/**
 * What the fake answers to one request: a message, a failure, or a function that decides from the
 * request (e.g. to call ReadSpilledOutput on the file a tool result named).
 */
export type FakeReply =
  | FakeMessage
  | { error: FakeFailure }
  /** Never answers (a hung server): the request stays open until the client gives up. */
  | { hang: true }
  /** Answers `reply` once `gate` resolves: a test holds the model back until it saw the spinner. */
  | { gate: Promise<unknown>; reply: FakeMessage | { error: FakeFailure } }
  | ((request: RecordedRequest) => FakeMessage | { error: FakeFailure });

/** A request the fake received, for tests to assert what the model was sent. */
export interface RecordedRequest {
  protocol: 'openai' | 'anthropic' | 'ollama' | 'gemini' | 'bedrock';
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** The query string's parameters (Azure's `api-version`, Gemini's `alt`). */
  query: Record<string, string>;
  /** The parsed JSON body. */
  body: Record<string, unknown>;
  stream: boolean;
}
