import type { ServerResponse } from 'node:http';
import type { FakeFailure, FakeMessage, ReplyOptions } from './fake-llm-types.js';
import { chunkText, sendJson, sendSse, toolCallId, writeSseHead } from './wire.js';

/**
 * How an OpenAI-compatible server streams where it differs from OpenAI: Mistral sends each tool
 * call whole in one chunk and the usage with the finish reason; Groq puts the usage in `x_groq`.
 */
export type OpenAiFlavour = 'openai' | 'mistral' | 'groq';

/** Answers one Chat Completions request, streamed as SSE chunks or as one JSON body. */
export function replyOpenAi(
  response: ServerResponse,
  message: FakeMessage,
  options: ReplyOptions & { flavour?: OpenAiFlavour },
): void {
  const flavour = options.flavour ?? 'openai';
  const id = `chatcmpl-fake-${options.turn}`;
  const created = Math.floor(Date.now() / 1000);
  const calls = (message.toolCalls ?? []).map((call, index) => ({
    id: call.id ?? toolCallId(options.turn, index),
    name: call.name,
    arguments: typeof call.args === 'string' ? call.args : JSON.stringify(call.args ?? {}),
  }));
  const finishReason = calls.length > 0 ? 'tool_calls' : 'stop';
  const usage = {
    prompt_tokens: options.usage.input,
    completion_tokens: options.usage.output,
    total_tokens: options.usage.input + options.usage.output,
  };
  if (!options.stream) {
    sendJson(response, 200, {
      id,
      object: 'chat.completion',
      created,
      model: options.model,
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: message.text ?? null,
            ...(calls.length > 0
              ? {
                  tool_calls: calls.map((call) => ({
                    id: call.id,
                    type: 'function',
                    function: { name: call.name, arguments: call.arguments },
                  })),
                }
              : {}),
          },
          finish_reason: finishReason,
        },
      ],
      usage,
    });
    return;
  }
  const chunk = (delta: Record<string, unknown>, finish: string | null = null): Record<string, unknown> => ({
    id,
    object: 'chat.completion.chunk',
    created,
    model: options.model,
    choices: [{ index: 0, delta, finish_reason: finish }],
  });
  writeSseHead(response);
  sendSse(response, chunk({ role: 'assistant', content: '' }));
  for (const piece of chunkText(message.text ?? '')) sendSse(response, chunk({ content: piece }));
  calls.forEach((call, index) => {
    if (flavour === 'mistral') {
      sendSse(
        response,
        chunk({
          tool_calls: [
            {
              index,
              id: call.id,
              type: 'function',
              function: { name: call.name, arguments: call.arguments },
            },
          ],
        }),
      );
      return;
    }
    sendSse(
      response,
      chunk({
        tool_calls: [{ index, id: call.id, type: 'function', function: { name: call.name, arguments: '' } }],
      }),
    );
    for (const piece of chunkText(call.arguments, 16)) {
      sendSse(response, chunk({ tool_calls: [{ index, function: { arguments: piece } }] }));
    }
  });
  if (flavour === 'mistral') {
    sendSse(response, { ...chunk({ content: '' }, finishReason), usage });
  } else if (flavour === 'groq') {
    sendSse(response, { ...chunk({}, finishReason), x_groq: { id: `req_${id}`, usage } });
  } else {
    // OpenAI: the usage in a chunk of its own, without choices (stream_options.include_usage).
    sendSse(response, chunk({}, finishReason));
    sendSse(response, {
      id,
      object: 'chat.completion.chunk',
      created,
      model: options.model,
      choices: [],
      usage,
    });
  }
  response.end('data: [DONE]\n\n');
}

export function failOpenAi(response: ServerResponse, failure: FakeFailure): void {
  const type =
    failure.status === 401
      ? 'invalid_request_error'
      : failure.status === 429
        ? 'rate_limit_exceeded'
        : 'server_error';
  sendJson(
    response,
    failure.status,
    { error: { message: failure.message ?? `fake error ${failure.status}`, type, code: null, param: null } },
    failure.headers,
  );
}
