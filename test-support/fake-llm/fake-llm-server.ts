import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { failAnthropic, replyAnthropic } from './anthropic-protocol.js';
import type { FakeReply, RecordedRequest } from './fake-llm-types.js';
import { failOllama, replyOllama } from './ollama-protocol.js';
import { failOpenAi, replyOpenAi } from './openai-protocol.js';
import { sendJson } from './wire.js';

export interface FakeLlmOptions {
  /** When set, requests must carry this key (Bearer or x-api-key), else they get a 401. */
  apiKey?: string;
}

/**
 * A model server on 127.0.0.1 (random port) speaking the OpenAI Chat Completions, Anthropic
 * Messages and Ollama `/api/chat` wire protocols, streaming and not. Tests script it with a queue
 * of replies and read back every request it got. When the queue is empty it answers 500 naming
 * the problem.
 */
export class FakeLlmServer {
  readonly requests: RecordedRequest[] = [];
  readonly #queue: FakeReply[] = [];
  readonly #server: Server;
  readonly #options: FakeLlmOptions;
  #turn = 0;

  private constructor(options: FakeLlmOptions) {
    this.#options = options;
    this.#server = createServer((request, response) => {
      void this.#handle(request, response);
    });
  }

  static async start(options: FakeLlmOptions = {}): Promise<FakeLlmServer> {
    const fake = new FakeLlmServer(options);
    await new Promise<void>((resolve, reject) => {
      fake.#server.once('error', reject);
      fake.#server.listen(0, '127.0.0.1', () => resolve());
    });
    return fake;
  }

  /** `http://127.0.0.1:PORT`, with no path. */
  get url(): string {
    const address = this.#server.address() as AddressInfo;
    return `http://127.0.0.1:${address.port}`;
  }

  /** Value for OPENAI_BASE_URL. */
  get openAiBaseUrl(): string {
    return `${this.url}/v1`;
  }

  /** Adds replies, answered in order, one per model request. */
  enqueue(...replies: FakeReply[]): this {
    this.#queue.push(...replies);
    return this;
  }

  /** Replies not yet used. */
  get pending(): number {
    return this.#queue.length;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const body = await readJson(request);
    const path = (request.url ?? '/').split('?')[0] ?? '/';
    const protocol = path.endsWith('/chat/completions')
      ? 'openai'
      : path.endsWith('/messages')
        ? 'anthropic'
        : path === '/api/chat'
          ? 'ollama'
          : undefined;
    if (request.method === 'GET' && path.endsWith('/models')) {
      sendJson(response, 200, {
        object: 'list',
        data: [{ id: 'fake-model', object: 'model', owned_by: 'fake' }],
      });
      return;
    }
    if (!protocol || request.method !== 'POST') {
      sendJson(response, 404, { error: { message: `fake-llm: no route for ${request.method} ${path}` } });
      return;
    }
    const stream = body.stream === true;
    const recorded: RecordedRequest = {
      protocol,
      method: request.method,
      path,
      headers: request.headers,
      body,
      stream,
    };
    this.requests.push(recorded);
    const fail = protocol === 'openai' ? failOpenAi : protocol === 'ollama' ? failOllama : failAnthropic;
    if (this.#options.apiKey !== undefined && presentedKey(request) !== this.#options.apiKey) {
      fail(response, { status: 401, message: 'Incorrect API key provided' });
      return;
    }
    const next = this.#queue.shift();
    const reply = typeof next === 'function' ? next(recorded) : next;
    if (!reply) {
      fail(response, { status: 500, message: 'fake-llm: no scripted reply left for this request' });
      return;
    }
    if ('error' in reply) {
      fail(response, reply.error);
      return;
    }
    this.#turn++;
    const options = { model: String(body.model ?? 'fake'), stream, turn: this.#turn };
    if (protocol === 'openai') replyOpenAi(response, reply, options);
    else if (protocol === 'ollama') replyOllama(response, reply, options);
    else replyAnthropic(response, reply, options);
  }
}

function presentedKey(request: IncomingMessage): string | undefined {
  const bearer = request.headers.authorization;
  if (typeof bearer === 'string' && bearer.startsWith('Bearer ')) return bearer.slice('Bearer '.length);
  const header = request.headers['x-api-key'];
  return typeof header === 'string' ? header : undefined;
}

async function readJson(request: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  if (text === '') return {};
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    return { unparsable: text };
  }
}

/** The system prompt a request carried, in either protocol. */
export function systemPromptOf(request: RecordedRequest): string {
  if (request.protocol === 'anthropic') {
    const system = request.body.system;
    if (typeof system === 'string') return system;
    return Array.isArray(system) ? system.map((part: { text?: string }) => part.text ?? '').join('\n') : '';
  }
  const messages = (request.body.messages ?? []) as Array<{ role: string; content: unknown }>;
  return messages
    .filter((message) => message.role === 'system' || message.role === 'developer')
    .map((message) => contentText(message.content))
    .join('\n');
}

/** The texts of the tool results a request carried, oldest first, in either protocol. */
export function toolResultsOf(request: RecordedRequest): string[] {
  const messages = (request.body.messages ?? []) as Array<{ role: string; content: unknown }>;
  if (request.protocol !== 'anthropic') {
    return messages
      .filter((message) => message.role === 'tool')
      .map((message) => contentText(message.content));
  }
  const results: string[] = [];
  for (const message of messages) {
    if (message.role !== 'user' || !Array.isArray(message.content)) continue;
    for (const block of message.content as Array<{ type: string; content?: unknown }>) {
      if (block.type === 'tool_result') results.push(contentText(block.content));
    }
  }
  return results;
}

/** The names of the tools a request offered the model. */
export function toolNamesOf(request: RecordedRequest): string[] {
  const tools = (request.body.tools ?? []) as Array<{ name?: string; function?: { name?: string } }>;
  return tools.map((tool) => tool.function?.name ?? tool.name ?? '');
}

/** The description the model was given of each tool, by name, in either protocol. */
export function toolDescriptionsOf(request: RecordedRequest): Record<string, string> {
  const tools = (request.body.tools ?? []) as Array<{
    name?: string;
    description?: string;
    function?: { name?: string; description?: string };
  }>;
  return Object.fromEntries(
    tools.map((tool) => [
      tool.function?.name ?? tool.name ?? '',
      tool.function?.description ?? tool.description ?? '',
    ]),
  );
}

/** The user messages' text, oldest first. */
export function userTextsOf(request: RecordedRequest): string[] {
  const messages = (request.body.messages ?? []) as Array<{ role: string; content: unknown }>;
  return messages
    .filter((message) => message.role === 'user')
    .map((message) => contentText(message.content))
    .filter((text) => text !== '');
}

function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content
      .map((part: { type?: string; text?: string }) =>
        part.type === 'text' || part.text ? (part.text ?? '') : '',
      )
      .join('');
  }
  return '';
}
