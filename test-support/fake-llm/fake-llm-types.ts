import type { IncomingHttpHeaders } from 'node:http';

/** One tool call the fake model makes. `args` given as a string is sent verbatim (even broken JSON). */
export interface FakeToolCall {
  name: string;
  args: unknown;
  id?: string;
}

/** One scripted answer of the fake model: text, tool calls, or both. */
export interface FakeMessage {
  text?: string;
  toolCalls?: FakeToolCall[];
}

/** A scripted failure: an HTTP error in the provider's own error format. */
export interface FakeFailure {
  status: number;
  message?: string;
  /** Extra response headers, e.g. `{ 'retry-after-ms': '10' }`. */
  headers?: Record<string, string>;
}

export type FakeReply = FakeMessage | { error: FakeFailure };

/** A request the fake received, for tests to assert what the model was sent. */
export interface RecordedRequest {
  protocol: 'openai' | 'anthropic';
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** The parsed JSON body. */
  body: Record<string, unknown>;
  stream: boolean;
}
