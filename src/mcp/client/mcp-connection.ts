import { existsSync } from 'node:fs';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { getDefaultEnvironment, StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { errorMessage, OpsmateError } from '../../errors/opsmate-error.js';
import type { McpServerConfig } from './mcp-server-config.js';

/** Pages of `tools/list` read at most (a server that pages forever is cut off). */
const MAX_TOOL_PAGES = 20;
/** Bytes of a server's stderr kept for messages. */
const STDERR_TAIL_BYTES = 4096;
/** Where util-linux keeps setsid; see {@link stdioTransport}. */
const SETSID = '/usr/bin/setsid';

/** A tool as the server lists it. Everything in it is the server's word, not opsmate's. */
export interface McpToolInfo {
  name: string;
  title?: string;
  description?: string;
  inputSchema: Record<string, unknown>;
  /** The server's hints (`readOnlyHint`...): shown, never trusted for the policy. */
  annotations?: { readOnlyHint?: boolean; destructiveHint?: boolean };
}

/** An MCP server that failed (did not start, hung, died, answered garbage). Its message names it. */
export class McpServerError extends OpsmateError {
  constructor(message: string) {
    super(message, {
      hint: 'check the server with `opsmate list-tools`, or fix or disable it in the MCP config',
    });
    this.name = 'McpServerError';
  }
}

/**
 * One running MCP server: a client of the official SDK over stdio or streamable HTTP, its tools,
 * and calls with a timeout and an AbortSignal. Failures come back as {@link McpServerError}s
 * naming the server, in one line; a server that went away says so on every later call.
 */
export class McpConnection {
  readonly server: McpServerConfig;
  readonly tools: readonly McpToolInfo[];
  readonly #client: Client;
  readonly #stderr: StderrTail;
  #closedBecause: string | undefined;
  #closing = false;

  private constructor(options: {
    server: McpServerConfig;
    client: Client;
    tools: McpToolInfo[];
    stderr: StderrTail;
  }) {
    this.server = options.server;
    this.#client = options.client;
    this.tools = options.tools;
    this.#stderr = options.stderr;
    this.#client.onclose = () => {
      if (!this.#closing) this.#closedBecause ??= `it went away${this.#stderr.lastLine()}`;
    };
  }

  /** Starts (or reaches) the server, says hello and lists its tools, within `timeoutMs`. */
  static async open(options: {
    server: McpServerConfig;
    timeoutMs: number;
    signal?: AbortSignal;
    /** Each line the server writes to its stderr (stdio only), for the debug log. */
    onStderr?: (line: string) => void;
  }): Promise<McpConnection> {
    const { server } = options;
    const stderr = new StderrTail(options.onStderr);
    const client = new Client({ name: 'opsmate', version: '0.1.0' }, { capabilities: {} });
    const transport = server.transport === 'stdio' ? stdioTransport(server, stderr) : httpTransport(server);
    const deadline = AbortSignal.timeout(options.timeoutMs);
    const signal = options.signal ? AbortSignal.any([options.signal, deadline]) : deadline;
    try {
      await client.connect(transport, { signal, timeout: options.timeoutMs });
      const tools: McpToolInfo[] = [];
      let cursor: string | undefined;
      for (let page = 0; page < MAX_TOOL_PAGES; page += 1) {
        const listed = await client.listTools(cursor === undefined ? {} : { cursor }, {
          signal,
          timeout: options.timeoutMs,
        });
        tools.push(...listed.tools.map(toolInfo));
        cursor = listed.nextCursor;
        if (cursor === undefined) break;
      }
      return new McpConnection({ server, client, tools, stderr });
    } catch (error) {
      await client.close().catch(() => undefined);
      const why = deadline.aborted
        ? `it did not answer within ${seconds(options.timeoutMs)}`
        : options.signal?.aborted
          ? 'cancelled'
          : errorMessage(error);
      throw new McpServerError(
        `MCP server "${server.name}" (${describeServer(server)}) did not start: ${why}${stderr.lastLine()}`,
      );
    }
  }

  /** Why the server is no longer usable, or undefined while it is. */
  get closedBecause(): string | undefined {
    return this.#closedBecause;
  }

  /**
   * Calls one of its tools. Resolves with the server's result (which may say `isError`); rejects
   * with an McpServerError when the server is gone, fails, answers garbage, takes longer than its
   * `timeout`, or `signal` is aborted (then the server is told the call was cancelled).
   */
  async call(options: { tool: string; arguments: unknown; signal: AbortSignal }): Promise<CallToolResult> {
    const name = `MCP server "${this.server.name}"`;
    if (this.#closedBecause !== undefined) {
      throw new McpServerError(`${name} is not running: ${this.#closedBecause}`);
    }
    const deadline = AbortSignal.timeout(this.server.timeoutMs);
    try {
      const result = await this.#client.callTool(
        { name: options.tool, arguments: (options.arguments ?? {}) as Record<string, unknown> },
        undefined,
        { signal: AbortSignal.any([options.signal, deadline]), timeout: this.server.timeoutMs },
      );
      return result as CallToolResult;
    } catch (error) {
      if (options.signal.aborted) throw new McpServerError(`${name}: the ${options.tool} call was cancelled`);
      if (deadline.aborted || /timed out/i.test(errorMessage(error))) {
        throw new McpServerError(
          `${name} did not answer the ${options.tool} call within ${seconds(this.server.timeoutMs)} (its timeout); the call was cancelled`,
        );
      }
      if (this.#closedBecause !== undefined) {
        throw new McpServerError(`${name} stopped during the ${options.tool} call: ${this.#closedBecause}`);
      }
      throw new McpServerError(`${name} failed the ${options.tool} call: ${oneLine(errorMessage(error))}`);
    }
  }

  /** Stops the server (stdio: end its stdin, then TERM, then KILL) or ends the HTTP session. */
  async close(): Promise<void> {
    this.#closing = true;
    this.#closedBecause ??= 'opsmate closed it';
    await this.#client.close().catch(() => undefined);
  }
}

/**
 * `stdio: npx` or `http: https://host/mcp`, for messages: the program and the URL without its
 * query, never the arguments, env or headers, which may hold tokens.
 */
export function describeServer(server: McpServerConfig): string {
  if (server.transport === 'stdio') return `stdio: ${server.command}`;
  const url = new URL(server.url);
  return `http: ${url.origin}${url.pathname}`;
}

/**
 * A local server, started with its own `env` on top of the SDK's small default environment
 * (HOME, PATH, USER, SHELL, TERM, LOGNAME): opsmate's API keys are not passed on. Where util-linux
 * `setsid` exists it starts the server in a session of its own, so the terminal's Ctrl-C, which
 * cancels opsmate's command, does not kill the user's MCP servers too.
 */
function stdioTransport(
  server: Extract<McpServerConfig, { transport: 'stdio' }>,
  stderr: StderrTail,
): Transport {
  const ownSession = process.platform === 'linux' && existsSync(SETSID);
  const transport = new StdioClientTransport({
    command: ownSession ? SETSID : server.command,
    args: ownSession ? [server.command, ...server.args] : server.args,
    env: { ...getDefaultEnvironment(), ...server.env },
    ...(server.cwd !== undefined ? { cwd: server.cwd } : {}),
    stderr: 'pipe',
  });
  transport.stderr?.on('data', (chunk: Buffer) => stderr.add(chunk));
  return transport;
}

function httpTransport(server: Extract<McpServerConfig, { transport: 'http' }>): Transport {
  return new StreamableHTTPClientTransport(new URL(server.url), { requestInit: { headers: server.headers } });
}

function toolInfo(tool: {
  name: string;
  title?: string | undefined;
  description?: string | undefined;
  inputSchema: unknown;
  annotations?: { readOnlyHint?: boolean | undefined; destructiveHint?: boolean | undefined } | undefined;
}): McpToolInfo {
  return {
    name: tool.name,
    ...(tool.title !== undefined ? { title: tool.title } : {}),
    ...(tool.description !== undefined ? { description: tool.description } : {}),
    inputSchema: (tool.inputSchema ?? { type: 'object' }) as Record<string, unknown>,
    ...(tool.annotations
      ? {
          annotations: {
            ...(tool.annotations.readOnlyHint !== undefined
              ? { readOnlyHint: tool.annotations.readOnlyHint }
              : {}),
            ...(tool.annotations.destructiveHint !== undefined
              ? { destructiveHint: tool.annotations.destructiveHint }
              : {}),
          },
        }
      : {}),
  };
}

/** The end of a server's stderr, for the one line that says why it failed. */
class StderrTail {
  #text = '';
  #partial = '';
  readonly #onLine: ((line: string) => void) | undefined;

  constructor(onLine?: (line: string) => void) {
    this.#onLine = onLine;
  }

  add(chunk: Buffer): void {
    const text = chunk.toString('utf8');
    this.#text = (this.#text + text).slice(-STDERR_TAIL_BYTES);
    if (!this.#onLine) return;
    const lines = (this.#partial + text).split('\n');
    this.#partial = lines.pop() ?? '';
    for (const line of lines) this.#onLine(line);
  }

  /** `; its stderr ends: <last line>`, or nothing. */
  lastLine(): string {
    const line = this.#text
      .split('\n')
      .map((text) => text.trim())
      .filter(Boolean)
      .pop();
    return line === undefined ? '' : `; its stderr ends: ${oneLine(line).slice(0, 300)}`;
  }
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}
