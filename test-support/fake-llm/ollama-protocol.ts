import type { ServerResponse } from 'node:http';
import type { FakeFailure, FakeMessage, ReplyOptions } from './fake-llm-types.js';
import { chunkText, sendJson, toolCallId } from './wire.js';

/** Answers one Ollama `/api/chat` request: newline-delimited JSON when streaming, else one object. */
export function replyOllama(response: ServerResponse, message: FakeMessage, options: ReplyOptions): void {
  const createdAt = new Date().toISOString();
  const toolCalls = (message.toolCalls ?? []).map((call, index) => ({
    id: call.id ?? toolCallId(options.turn, index),
    function: {
      name: call.name,
      arguments: typeof call.args === 'string' ? safeObject(call.args) : (call.args ?? {}),
    },
  }));
  const last = {
    model: options.model,
    created_at: createdAt,
    message: { role: 'assistant', content: '' },
    done: true,
    done_reason: 'stop',
    prompt_eval_count: options.usage.input,
    eval_count: options.usage.output,
  };
  if (!options.stream) {
    sendJson(response, 200, {
      ...last,
      message: {
        role: 'assistant',
        content: message.text ?? '',
        ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
      },
    });
    return;
  }
  response.writeHead(200, { 'content-type': 'application/x-ndjson' });
  const line = (value: unknown): void => {
    response.write(`${JSON.stringify(value)}\n`);
  };
  for (const piece of chunkText(message.text ?? '')) {
    line({
      model: options.model,
      created_at: createdAt,
      message: { role: 'assistant', content: piece },
      done: false,
    });
  }
  if (toolCalls.length > 0) {
    line({
      model: options.model,
      created_at: createdAt,
      message: { role: 'assistant', content: '', tool_calls: toolCalls },
      done: false,
    });
  }
  line(last);
  response.end();
}

export function failOllama(response: ServerResponse, failure: FakeFailure): void {
  sendJson(
    response,
    failure.status,
    { error: failure.message ?? `fake error ${failure.status}` },
    failure.headers,
  );
}

function safeObject(text: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}
