import type { ServerResponse } from 'node:http';
import type { FakeFailure, FakeMessage, ReplyOptions } from './fake-llm-types.js';
import { chunkText, sendJson, sendSse, toolCallId, writeSseHead } from './wire.js';

/** Answers one Messages request, streamed as typed SSE events or as one JSON body. */
export function replyAnthropic(response: ServerResponse, message: FakeMessage, options: ReplyOptions): void {
  const id = `msg_fake_${options.turn}`;
  const { input, output } = options.usage;
  const calls = (message.toolCalls ?? []).map((call, index) => ({
    id: call.id ?? toolCallId(options.turn, index),
    name: call.name,
    json: typeof call.args === 'string' ? call.args : JSON.stringify(call.args ?? {}),
    input: typeof call.args === 'string' ? safeParse(call.args) : (call.args ?? {}),
  }));
  const stopReason = calls.length > 0 ? 'tool_use' : 'end_turn';
  if (!options.stream) {
    sendJson(response, 200, {
      id,
      type: 'message',
      role: 'assistant',
      model: options.model,
      content: [
        ...(message.text ? [{ type: 'text', text: message.text }] : []),
        ...calls.map((call) => ({ type: 'tool_use', id: call.id, name: call.name, input: call.input })),
      ],
      stop_reason: stopReason,
      stop_sequence: null,
      usage: { input_tokens: input, output_tokens: output },
    });
    return;
  }
  writeSseHead(response);
  const event = (data: Record<string, unknown>): void => sendSse(response, data, String(data.type));
  event({
    type: 'message_start',
    message: {
      id,
      type: 'message',
      role: 'assistant',
      model: options.model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: { input_tokens: input, output_tokens: 1 },
    },
  });
  let index = 0;
  if (message.text) {
    event({ type: 'content_block_start', index, content_block: { type: 'text', text: '' } });
    for (const piece of chunkText(message.text)) {
      event({ type: 'content_block_delta', index, delta: { type: 'text_delta', text: piece } });
    }
    event({ type: 'content_block_stop', index });
    index++;
  }
  for (const call of calls) {
    event({
      type: 'content_block_start',
      index,
      content_block: { type: 'tool_use', id: call.id, name: call.name, input: {} },
    });
    for (const piece of chunkText(call.json, 16)) {
      event({ type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: piece } });
    }
    event({ type: 'content_block_stop', index });
    index++;
  }
  event({
    type: 'message_delta',
    delta: { stop_reason: stopReason, stop_sequence: null },
    usage: { output_tokens: output },
  });
  event({ type: 'message_stop' });
  response.end();
}

export function failAnthropic(response: ServerResponse, failure: FakeFailure): void {
  const type =
    failure.status === 401
      ? 'authentication_error'
      : failure.status === 429
        ? 'rate_limit_error'
        : failure.status === 404
          ? 'not_found_error'
          : 'api_error';
  sendJson(
    response,
    failure.status,
    { type: 'error', error: { type, message: failure.message ?? `fake error ${failure.status}` } },
    failure.headers,
  );
}

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
