import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { failAnthropic, replyAnthropic } from './anthropic-protocol.js';
import { failBedrock, replyBedrock } from './bedrock-protocol.js';
import type { FakeFailure, FakeMessage, FakeReply, RecordedRequest } from './fake-llm-types.js';
import { failGemini, replyGemini } from './gemini-protocol.js';
import { failOllama, replyOllama } from './ollama-protocol.js';
import { failOpenAi, replyOpenAi } from './openai-protocol.js';
import { sendJson } from './wire.js';
import { fakeEmbedding } from './fake-embeddings.js';

export interface FakeLlmOptions {
  /**
   * When set, requests must carry this key (`Authorization: Bearer`, `x-api-key`, Azure's
   * `api-key` or Gemini's `x-goog-api-key`), else they get a 401. Bedrock's SigV4 signatures are
   * not checked (they are recorded).
   */
  apiKey?: string;
  /** What `GET .../models` (OpenAI) and `GET /api/tags` (Ollama) list. Default `['fake-model']`. */
  models?: string[];
}

/** One call to the OpenAI-compatible `POST /v1/embeddings`. */
export interface RecordedEmbeddingRequest {
  model: string;
  input: string[];
}

type Protocol = RecordedRequest['protocol'];

const GEMINI_PATH = /\/models\/([^/:]+):(generateContent|streamGenerateContent)$/;
const BEDROCK_PATH = /\/model\/([^/]+)\/(converse|converse-stream)$/;

/** Which wire protocol a request path belongs to. */
function protocolOf(path: string): Protocol | undefined {
  if (path.endsWith('/chat/completions')) return 'openai';
  if (path.endsWith('/messages')) return 'anthropic';
  if (path === '/api/chat') return 'ollama';
  if (GEMINI_PATH.test(path)) return 'gemini';
  if (BEDROCK_PATH.test(path)) return 'bedrock';
  return undefined;
}

const FAILURES: Record<Protocol, (response: ServerResponse, failure: FakeFailure) => void> = {
  openai: failOpenAi,
  anthropic: failAnthropic,
  ollama: failOllama,
  gemini: failGemini,
  bedrock: failBedrock,
};

/**
 * A model server on 127.0.0.1 (random port) speaking the OpenAI Chat Completions (and so Azure,
 * Groq, Mistral, DeepSeek, Fireworks), Anthropic Messages, Ollama `/api/chat`, Gemini
 * `generateContent` and Bedrock Converse wire protocols, streaming and not. Tests script it with
 * a queue of replies and read back every request it got. When the queue is empty it answers 500
 * naming the problem.
 */
export class FakeLlmServer {
  readonly requests: RecordedRequest[] = [];
  readonly #queue: FakeReply[] = [];
  readonly #server: Server;
  readonly #options: FakeLlmOptions;
  #turn = 0;
  /** What the model lists say is served; tests may change it. */
  models: string[];
  /** Every `/v1/embeddings` call, in order (kept apart from the chat requests). */
  readonly embeddingRequests: RecordedEmbeddingRequest[] = [];
  /** When set, `/v1/embeddings` answers with this HTTP status (a model that is down). */
  embeddingsFailWith: number | undefined;

  private constructor(options: FakeLlmOptions) {
    this.#options = options;
    this.models = options.models ?? ['fake-model'];
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

  /** Forgets the requests and the replies not used yet, for the next test. */
  reset(): void {
    this.requests.length = 0;
    this.#queue.length = 0;
  }

  /** Replies not yet used. */
  get pending(): number {
    return this.#queue.length;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  /**
   * OpenAI's embeddings API, answered with {@link fakeEmbedding}: deterministic vectors where
   * texts that share words are near, so hybrid search can be tested without a model.
   */
  #embeddings(body: Record<string, unknown>, response: ServerResponse): void {
    const input = typeof body.input === 'string' ? [body.input] : Array.isArray(body.input) ? body.input : [];
    const texts = input.map((value) => String(value));
    const model = String(body.model ?? 'fake-embedding');
    this.embeddingRequests.push({ model, input: texts });
    if (this.embeddingsFailWith !== undefined) {
      sendJson(response, this.embeddingsFailWith, {
        error: { message: 'fake-llm: the embedding model is down', type: 'server_error' },
      });
      return;
    }
    sendJson(response, 200, {
      object: 'list',
      model,
      data: texts.map((text, index) => ({ object: 'embedding', index, embedding: fakeEmbedding(text) })),
      usage: { prompt_tokens: texts.length, total_tokens: texts.length },
    });
  }

  async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const body = await readJson(request);
    const url = new URL(request.url ?? '/', 'http://fake');
    const path = url.pathname;
    const protocol = protocolOf(path);
    if (request.method === 'GET' && path.endsWith('/models')) {
      sendJson(response, 200, {
        object: 'list',
        data: this.models.map((id) => ({ id, object: 'model', owned_by: 'fake' })),
      });
      return;
    }
    if (request.method === 'POST' && path.endsWith('/embeddings')) {
      this.#embeddings(body, response);
      return;
    }
    if (request.method === 'GET' && path === '/api/tags') {
      sendJson(response, 200, { models: this.models.map((name) => ({ name, model: name })) });
      return;
    }
    if (!protocol || request.method !== 'POST') {
      sendJson(response, 404, { error: { message: `fake-llm: no route for ${request.method} ${path}` } });
      return;
    }
    // Gemini and Bedrock say "stream" in the path, the others in the body.
    const stream =
      protocol === 'gemini'
        ? GEMINI_PATH.exec(path)?.[2] === 'streamGenerateContent'
        : protocol === 'bedrock'
          ? BEDROCK_PATH.exec(path)?.[2] === 'converse-stream'
          : body.stream === true;
    const recorded: RecordedRequest = {
      protocol,
      method: request.method,
      path,
      query: Object.fromEntries(url.searchParams),
      headers: request.headers,
      body,
      stream,
    };
    this.requests.push(recorded);
    const fail = FAILURES[protocol];
    if (this.#options.apiKey !== undefined && presentedKey(request) !== this.#options.apiKey) {
      fail(response, { status: 401, message: 'Incorrect API key provided' });
      return;
    }
    const next = this.#queue.shift();
    if (next !== undefined && typeof next !== 'function' && 'hang' in next) return;
    const gated = next !== undefined && typeof next !== 'function' && 'gate' in next ? next : undefined;
    if (gated) await gated.gate;
    const reply = (gated ? gated.reply : typeof next === 'function' ? next(recorded) : next) as
      FakeMessage | { error: FakeFailure } | undefined;
    if (!reply) {
      fail(response, { status: 500, message: 'fake-llm: no scripted reply left for this request' });
      return;
    }
    if ('error' in reply) {
      fail(response, reply.error);
      return;
    }
    this.#turn++;
    const model =
      protocol === 'gemini'
        ? (GEMINI_PATH.exec(path)?.[1] ?? 'fake')
        : protocol === 'bedrock'
          ? decodeURIComponent(BEDROCK_PATH.exec(path)?.[1] ?? 'fake')
          : String(body.model ?? 'fake');
    const options = { model, stream, turn: this.#turn, usage: reply.usage ?? { input: 10, output: 5 } };
    if (protocol === 'openai') {
      // Tests reach a server's own way of streaming under its name: /mistral/v1, /groq/openai/v1.
      const flavour = path.startsWith('/mistral/')
        ? 'mistral'
        : path.startsWith('/groq/')
          ? 'groq'
          : 'openai';
      replyOpenAi(response, reply, { ...options, flavour });
    } else if (protocol === 'ollama') replyOllama(response, reply, options);
    else if (protocol === 'gemini') replyGemini(response, reply, options);
    else if (protocol === 'bedrock') replyBedrock(response, reply, options);
    else replyAnthropic(response, reply, options);
  }
}

function presentedKey(request: IncomingMessage): string | undefined {
  const bearer = request.headers.authorization;
  if (typeof bearer === 'string' && bearer.startsWith('Bearer ')) return bearer.slice('Bearer '.length);
  for (const name of ['x-api-key', 'api-key', 'x-goog-api-key']) {
    const header = request.headers[name];
    if (typeof header === 'string') return header;
  }
  return undefined;
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

/** The system prompt a request carried, in any protocol. */
export function systemPromptOf(request: RecordedRequest): string {
  if (request.protocol === 'gemini') {
    const parts =
      (request.body.systemInstruction as { parts?: Array<{ text?: string }> } | undefined)?.parts ?? [];
    return parts.map((part) => part.text ?? '').join('\n');
  }
  if (request.protocol === 'bedrock') {
    return ((request.body.system ?? []) as Array<{ text?: string }>)
      .map((part) => part.text ?? '')
      .join('\n');
  }
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

/** The texts of the tool results a request carried, oldest first, in any protocol. */
export function toolResultsOf(request: RecordedRequest): string[] {
  if (request.protocol === 'gemini') {
    return geminiParts(request).flatMap((part) => {
      const response = (part.functionResponse as { response?: { content?: unknown } } | undefined)?.response;
      return response
        ? [typeof response.content === 'string' ? response.content : JSON.stringify(response.content)]
        : [];
    });
  }
  if (request.protocol === 'bedrock') {
    return bedrockBlocks(request).flatMap((block) => {
      const result = block.toolResult as { content?: Array<{ text?: string }> } | undefined;
      return result ? [(result.content ?? []).map((part) => part.text ?? '').join('')] : [];
    });
  }
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
  if (request.protocol === 'gemini') {
    const tools = (request.body.tools ?? []) as Array<{ functionDeclarations?: Array<{ name: string }> }>;
    return tools.flatMap((tool) => (tool.functionDeclarations ?? []).map((declaration) => declaration.name));
  }
  if (request.protocol === 'bedrock') {
    const config = request.body.toolConfig as { tools?: Array<{ toolSpec?: { name: string } }> } | undefined;
    return (config?.tools ?? []).map((tool) => tool.toolSpec?.name ?? '');
  }
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
  if (request.protocol === 'gemini') {
    const contents = (request.body.contents ?? []) as Array<{
      role: string;
      parts?: Array<{ text?: string }>;
    }>;
    return contents
      .filter((content) => content.role === 'user')
      .map((content) => (content.parts ?? []).map((part) => part.text ?? '').join(''))
      .filter((text) => text !== '');
  }
  if (request.protocol === 'bedrock') {
    const messages = (request.body.messages ?? []) as Array<{
      role: string;
      content?: Array<{ text?: string }>;
    }>;
    return messages
      .filter((message) => message.role === 'user')
      .map((message) => (message.content ?? []).map((part) => part.text ?? '').join(''))
      .filter((text) => text !== '');
  }
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

function geminiParts(request: RecordedRequest): Array<Record<string, unknown>> {
  const contents = (request.body.contents ?? []) as Array<{ parts?: Array<Record<string, unknown>> }>;
  return contents.flatMap((content) => content.parts ?? []);
}

function bedrockBlocks(request: RecordedRequest): Array<Record<string, unknown>> {
  const messages = (request.body.messages ?? []) as Array<{ content?: Array<Record<string, unknown>> }>;
  return messages.flatMap((message) => message.content ?? []);
}
