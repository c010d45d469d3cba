import { randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { ConfigError, errorMessage } from '../../errors/opsmate-error.js';

/** The path MCP clients are given: `http://127.0.0.1:PORT/mcp`. */
export const MCP_HTTP_PATH = '/mcp';

/**
 * Serves MCP over streamable HTTP until `signal` is aborted. Every request must carry
 * `Authorization: Bearer <token>` (compared in constant time; 401 otherwise). Each client session
 * gets its own MCP server from `newSession`; sessions end when the client deletes them or when
 * serving stops. On a loopback address the Host header must name it (DNS rebinding protection).
 */
export async function serveMcpOverHttp(options: {
  host: string;
  port: number;
  token: string;
  newSession: () => { server: Server; close(): Promise<void> };
  signal: AbortSignal;
  /** Called once listening, with the URL clients use. */
  onListening: (url: string) => void;
  onError?: (message: string) => void;
}): Promise<void> {
  const sessions = new Map<string, { transport: StreamableHTTPServerTransport; close(): Promise<void> }>();
  const expected = Buffer.from(`Bearer ${options.token}`);
  let allowedHosts: string[] | undefined;

  const authorized = (request: IncomingMessage): boolean => {
    const given = Buffer.from(request.headers.authorization ?? '');
    return given.length === expected.length && timingSafeEqual(given, expected);
  };
  const reject = (response: ServerResponse, status: number, message: string): void => {
    response.writeHead(status, {
      'content-type': 'application/json',
      ...(status === 401 ? { 'www-authenticate': 'Bearer' } : {}),
    });
    response.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message }, id: null }));
  };

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    if (path !== MCP_HTTP_PATH)
      return reject(response, 404, `no such path; MCP is served at ${MCP_HTTP_PATH}`);
    if (!authorized(request)) return reject(response, 401, 'missing or wrong bearer token');
    const sessionId = request.headers['mcp-session-id'];
    if (typeof sessionId === 'string') {
      const session = sessions.get(sessionId);
      if (!session) return reject(response, 404, 'unknown or ended session; initialize a new one');
      return session.transport.handleRequest(request, response);
    }
    if (request.method !== 'POST') return reject(response, 400, 'initialize a session first (POST)');
    const served = options.newSession();
    const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => {
        sessions.set(id, { transport, close: served.close });
      },
      ...(allowedHosts ? { allowedHosts, enableDnsRebindingProtection: true } : {}),
    });
    transport.onclose = () => {
      if (transport.sessionId !== undefined) sessions.delete(transport.sessionId);
      void served.close().catch(() => undefined);
    };
    await served.server.connect(transport);
    await transport.handleRequest(request, response);
  };

  const http = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      options.onError?.(`MCP over HTTP: ${errorMessage(error)}`);
      if (!response.headersSent) reject(response, 500, 'internal error');
      else response.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    http.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        new ConfigError(`cannot listen on ${options.host}:${options.port}: ${error.message}`, {
          hint: 'choose another --port (0: any free port) or --host',
        }),
      ),
    );
    http.listen(options.port, options.host, () => resolve());
  });
  const { port } = http.address() as AddressInfo;
  const shownHost = options.host.includes(':') ? `[${options.host}]` : options.host;
  if (isLoopback(options.host)) allowedHosts = [`${shownHost}:${port}`, `localhost:${port}`];
  options.onListening(`http://${shownHost}:${port}${MCP_HTTP_PATH}`);
  try {
    if (!options.signal.aborted) {
      await new Promise<void>((resolve) =>
        options.signal.addEventListener('abort', () => resolve(), { once: true }),
      );
    }
  } finally {
    await Promise.all([...sessions.values()].map((session) => session.close().catch(() => undefined)));
    http.closeAllConnections();
    await new Promise<void>((resolve) => http.close(() => resolve()));
  }
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}
