import type { ServerResponse } from 'node:http';
import type { FakeFailure, FakeMessage, ReplyOptions } from './fake-llm-types.js';
import { chunkText, sendJson, writeSseHead } from './wire.js';

/**
 * Answers one Gemini `models/{model}:generateContent` request, or `:streamGenerateContent?alt=sse`
 * as server-sent events (one GenerateContentResponse per event, usage and finishReason on the last).
 */
export function replyGemini(response: ServerResponse, message: FakeMessage, options: ReplyOptions): void {
  const calls = (message.toolCalls ?? []).map((call) => ({
    functionCall: {
      name: call.name,
      args: typeof call.args === 'string' ? safeObject(call.args) : (call.args ?? {}),
    },
  }));
  const usageMetadata = {
    promptTokenCount: options.usage.input,
    candidatesTokenCount: options.usage.output,
    totalTokenCount: options.usage.input + options.usage.output,
  };
  const candidate = (parts: unknown[], finishReason?: string): Record<string, unknown> => ({
    content: { role: 'model', parts },
    index: 0,
    ...(finishReason ? { finishReason } : {}),
  });
  if (!options.stream) {
    sendJson(response, 200, {
      candidates: [candidate([...(message.text ? [{ text: message.text }] : []), ...calls], 'STOP')],
      usageMetadata,
      modelVersion: options.model,
    });
    return;
  }
  writeSseHead(response);
  const send = (body: unknown): void => {
    response.write(`data: ${JSON.stringify(body)}\r\n\r\n`);
  };
  for (const piece of chunkText(message.text ?? '')) send({ candidates: [candidate([{ text: piece }])] });
  // Gemini sends function calls whole, in the last chunk, with the finish reason STOP.
  send({
    candidates: [candidate(calls.length > 0 ? calls : [{ text: '' }], 'STOP')],
    usageMetadata,
    modelVersion: options.model,
  });
  response.end();
}

/** Google's error format: `{ error: { code, message, status } }`. */
export function failGemini(response: ServerResponse, failure: FakeFailure): void {
  const status =
    failure.status === 401 || failure.status === 403
      ? 'PERMISSION_DENIED'
      : failure.status === 404
        ? 'NOT_FOUND'
        : failure.status === 429
          ? 'RESOURCE_EXHAUSTED'
          : failure.status >= 500
            ? 'UNAVAILABLE'
            : 'INVALID_ARGUMENT';
  sendJson(
    response,
    failure.status,
    { error: { code: failure.status, message: failure.message ?? `fake error ${failure.status}`, status } },
    failure.headers,
  );
}

function safeObject(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return {};
  }
}
