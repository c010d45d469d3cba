import type { ServerResponse } from 'node:http';
import { crc32 } from 'node:zlib';
import type { FakeFailure, FakeMessage, ReplyOptions } from './fake-llm-types.js';
import { chunkText, sendJson, toolCallId } from './wire.js';

/**
 * Answers one Bedrock Converse request: `/model/{id}/converse` as JSON, `/converse-stream` in
 * the AWS event stream encoding (binary frames: lengths, CRC32s, `:event-type` headers), as
 * Bedrock sends it: messageStart, content block deltas, messageStop, metadata with the usage.
 */
export function replyBedrock(response: ServerResponse, message: FakeMessage, options: ReplyOptions): void {
  const calls = (message.toolCalls ?? []).map((call, index) => ({
    toolUseId: call.id ?? toolCallId(options.turn, index),
    name: call.name,
    json: typeof call.args === 'string' ? call.args : JSON.stringify(call.args ?? {}),
  }));
  const stopReason = calls.length > 0 ? 'tool_use' : 'end_turn';
  const usage = {
    inputTokens: options.usage.input,
    outputTokens: options.usage.output,
    totalTokens: options.usage.input + options.usage.output,
  };
  if (!options.stream) {
    sendJson(response, 200, {
      output: {
        message: {
          role: 'assistant',
          content: [
            ...(message.text ? [{ text: message.text }] : []),
            ...calls.map((call) => ({
              toolUse: {
                toolUseId: call.toolUseId,
                name: call.name,
                input: JSON.parse(call.json) as unknown,
              },
            })),
          ],
        },
      },
      stopReason,
      usage,
      metrics: { latencyMs: 1 },
    });
    return;
  }
  response.writeHead(200, { 'content-type': 'application/vnd.amazon.eventstream' });
  const event = (type: string, body: unknown): void => {
    response.write(eventFrame(type, body));
  };
  event('messageStart', { role: 'assistant' });
  let index = 0;
  if (message.text) {
    for (const piece of chunkText(message.text)) {
      event('contentBlockDelta', { contentBlockIndex: index, delta: { text: piece } });
    }
    event('contentBlockStop', { contentBlockIndex: index });
    index++;
  }
  for (const call of calls) {
    event('contentBlockStart', {
      contentBlockIndex: index,
      start: { toolUse: { toolUseId: call.toolUseId, name: call.name } },
    });
    for (const piece of chunkText(call.json, 16)) {
      event('contentBlockDelta', { contentBlockIndex: index, delta: { toolUse: { input: piece } } });
    }
    event('contentBlockStop', { contentBlockIndex: index });
    index++;
  }
  event('messageStop', { stopReason });
  event('metadata', { usage, metrics: { latencyMs: 1 } });
  response.end();
}

/** Bedrock's errors: a JSON message, the exception's name in `x-amzn-errortype`. */
export function failBedrock(response: ServerResponse, failure: FakeFailure): void {
  const type =
    failure.status === 403
      ? 'AccessDeniedException'
      : failure.status === 404
        ? 'ResourceNotFoundException'
        : failure.status === 429
          ? 'ThrottlingException'
          : failure.status >= 500
            ? 'ServiceUnavailableException'
            : 'ValidationException';
  sendJson(
    response,
    failure.status,
    { message: failure.message ?? `fake error ${failure.status}` },
    {
      'x-amzn-errortype': `${type}:http://internal.amazon.com/coral/com.amazon.bedrock/`,
      ...failure.headers,
    },
  );
}

/**
 * One message of the AWS event stream encoding: total length, headers length, prelude CRC,
 * headers (name length, name, type 7 = string, value length, value), payload, message CRC.
 */
export function eventFrame(eventType: string, body: unknown): Buffer {
  const headers = Buffer.concat(
    Object.entries({
      ':event-type': eventType,
      ':content-type': 'application/json',
      ':message-type': 'event',
    }).map(([name, value]) => {
      const nameBytes = Buffer.from(name, 'utf8');
      const valueBytes = Buffer.from(value, 'utf8');
      const head = Buffer.alloc(1 + nameBytes.length + 1 + 2);
      head.writeUInt8(nameBytes.length, 0);
      nameBytes.copy(head, 1);
      head.writeUInt8(7, 1 + nameBytes.length);
      head.writeUInt16BE(valueBytes.length, 2 + nameBytes.length);
      return Buffer.concat([head, valueBytes]);
    }),
  );
  // Bedrock pads events with a `p` field; the SDK drops it.
  const payload = Buffer.from(JSON.stringify({ ...(body as object), p: 'abcd' }), 'utf8');
  const total = 12 + headers.length + payload.length + 4;
  const prelude = Buffer.alloc(8);
  prelude.writeUInt32BE(total, 0);
  prelude.writeUInt32BE(headers.length, 4);
  const preludeCrc = Buffer.alloc(4);
  preludeCrc.writeUInt32BE(crc32(prelude), 0);
  const withoutCrc = Buffer.concat([prelude, preludeCrc, headers, payload]);
  const messageCrc = Buffer.alloc(4);
  messageCrc.writeUInt32BE(crc32(withoutCrc), 0);
  return Buffer.concat([withoutCrc, messageCrc]);
}
