import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Runtime } from '../runtime/contract.js';
import { FetchFailure, requestOnTarget } from '../runtime/target-http.js';
import type { MonitoringEndpoint } from './monitoring-endpoints.js';

/** Bytes of a response read at most; a bigger one is an error, not a silent cut. */
export const MAX_RESPONSE_BYTES = 32 * 1024 * 1024;
export const DEFAULT_MONITORING_TIMEOUT_MS = 30_000;

/**
 * A request to a monitoring server that did not give an answer opsmate can use. `message` is one
 * line for the model and the user (unreachable, refused, timed out, the server's own error).
 */
export class MonitoringError extends Error {
  /** What kind of failure: the CLI maps `config` to exit 2. */
  readonly kind: 'unreachable' | 'timeout' | 'auth' | 'api' | 'http' | 'cancelled' | 'config';
  constructor(message: string, kind: MonitoringError['kind']) {
    super(message);
    this.name = 'MonitoringError';
    this.kind = kind;
  }
}

export interface MonitoringRequest {
  endpoint: MonitoringEndpoint;
  /** The API path after the endpoint's prefix: `/api/v1/query`. */
  path: string;
  query?: Record<string, string | readonly string[] | undefined>;
  method?: 'GET' | 'POST' | 'DELETE';
  /** Sent as JSON. */
  json?: unknown;
  timeoutMs?: number;
  signal: AbortSignal;
  /**
   * The target's runtime (unguarded: the caller's call was judged), for an endpoint reached from
   * the target. Required when `endpoint.reach` is `target`.
   */
  runtime?: Runtime;
}

export interface MonitoringResponse {
  status: number;
  body: string;
  /** Where the request went, for messages: `http://prometheus:9090/api/v1/query (from the target)`. */
  url: string;
}

/** The URL of a request, without credentials. */
export function requestUrl(request: Pick<MonitoringRequest, 'endpoint' | 'path' | 'query'>): string {
  const url = new URL(`${request.endpoint.baseUrl}${request.path}`);
  for (const [name, value] of Object.entries(request.query ?? {})) {
    if (value === undefined) continue;
    for (const item of typeof value === 'string' ? [value] : value) url.searchParams.append(name, item);
  }
  return url.href;
}

/**
 * Makes the request from here or through the target and returns the answer when it is a 2xx;
 * throws a MonitoringError with one line otherwise (the server's error text quoted verbatim).
 */
export async function monitoringRequest(request: MonitoringRequest): Promise<MonitoringResponse> {
  const url = requestUrl(request);
  const timeoutMs = request.timeoutMs ?? DEFAULT_MONITORING_TIMEOUT_MS;
  const { endpoint } = request;
  const where = endpoint.reach === 'target' ? ' (from the target)' : '';
  let response: { status: number; body: string };
  if (endpoint.reach === 'target') {
    if (!request.runtime)
      throw new MonitoringError(
        `${endpoint.envPrefix}_FROM=target: there is no target here to make the request from`,
        'config',
      );
    response = await requestFromTarget({ ...request, url, timeoutMs, runtime: request.runtime });
  } else response = await requestLocally({ ...request, url, timeoutMs });
  if (response.status >= 200 && response.status < 300) return { ...response, url: `${url}${where}` };
  throw statusError(endpoint, response, `${url}${where}`);
}

/** The server's error as one line: Prometheus' `error`, Alertmanager's message, or the body's first line. */
function statusError(
  endpoint: MonitoringEndpoint,
  response: { status: number; body: string },
  url: string,
): MonitoringError {
  const serverText = errorText(response.body);
  if (response.status === 401 || response.status === 403) {
    return new MonitoringError(
      `${endpoint.title} at ${originOf(url)} refused the request: HTTP ${response.status}${serverText ? `: ${serverText}` : ''} (check ${endpoint.envPrefix}_USER_ID / ${endpoint.envPrefix}_API_KEY / ${endpoint.envPrefix}_HEADERS)`,
      'auth',
    );
  }
  if (response.status === 400 || response.status === 422) {
    return new MonitoringError(
      `${endpoint.title} rejected the request: ${serverText || `HTTP ${response.status}`}`,
      'api',
    );
  }
  return new MonitoringError(
    `${endpoint.title} at ${originOf(url)} answered HTTP ${response.status}${serverText ? `: ${serverText}` : ''}`,
    'http',
  );
}

function originOf(url: string): string {
  try {
    const parsed = new URL(url.replace(/ \(from the target\)$/, ''));
    return `${parsed.origin}${url.endsWith('(from the target)') ? ' (from the target)' : ''}`;
  } catch {
    return url;
  }
}

/** `errorType: error` from a Prometheus/Loki JSON error, a JSON message, or the first line of text. */
export function errorText(body: string): string {
  const trimmed = body.trim();
  try {
    const parsed = JSON.parse(trimmed) as Record<string, unknown>;
    if (typeof parsed.error === 'string')
      return typeof parsed.errorType === 'string' ? `${parsed.errorType}: ${parsed.error}` : parsed.error;
    if (typeof parsed.message === 'string') return parsed.message;
  } catch {
    // Not JSON: the text itself.
  }
  return oneLine(trimmed);
}

function oneLine(text: string): string {
  const line = text.split('\n').find((part) => part.trim() !== '') ?? '';
  return line.length > 300 ? `${line.slice(0, 300)}…` : line.trim();
}

async function requestLocally(
  request: MonitoringRequest & { url: string; timeoutMs: number },
): Promise<{ status: number; body: string }> {
  const { endpoint } = request;
  const target = new URL(request.url);
  const body = request.json === undefined ? undefined : Buffer.from(JSON.stringify(request.json));
  const ca = endpoint.caFile ? readCaFile(endpoint) : undefined;
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return await new Promise((resolve, reject) => {
    let settled = false;
    const finish = (error: MonitoringError | undefined, value?: { status: number; body: string }) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      request.signal.removeEventListener('abort', onAbort);
      if (error) reject(error);
      else resolve(value!);
    };
    const outgoing = send(
      target,
      {
        method: request.method ?? 'GET',
        headers: {
          ...endpoint.headers,
          'user-agent': 'opsmate',
          ...(body ? { 'content-type': 'application/json', 'content-length': String(body.length) } : {}),
        },
        ...(target.protocol === 'https:'
          ? { ...(ca ? { ca } : {}), rejectUnauthorized: !endpoint.skipTlsVerify }
          : {}),
      },
      (incoming) => {
        const chunks: Buffer[] = [];
        let size = 0;
        incoming.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_RESPONSE_BYTES) {
            outgoing.destroy();
            finish(
              new MonitoringError(
                `${endpoint.title} sent more than ${MAX_RESPONSE_BYTES / 1024 / 1024} MiB: narrow the request`,
                'http',
              ),
            );
            return;
          }
          chunks.push(chunk);
        });
        incoming.on('end', () =>
          finish(undefined, {
            status: incoming.statusCode ?? 0,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        incoming.on('error', (error) => finish(unreachable(endpoint, request.url, error)));
      },
    );
    const timer = setTimeout(() => {
      finish(
        new MonitoringError(
          `${endpoint.title} at ${target.origin} did not answer within ${formatSeconds(request.timeoutMs)}`,
          'timeout',
        ),
      );
      outgoing.destroy();
    }, request.timeoutMs);
    const onAbort = () => {
      finish(new MonitoringError('cancelled', 'cancelled'));
      outgoing.destroy();
    };
    if (request.signal.aborted) onAbort();
    else request.signal.addEventListener('abort', onAbort, { once: true });
    outgoing.on('error', (error) => finish(unreachable(endpoint, request.url, error)));
    outgoing.end(body);
  });
}

function readCaFile(endpoint: MonitoringEndpoint): string {
  try {
    return readFileSync(endpoint.caFile!, 'utf8');
  } catch (error) {
    throw new MonitoringError(
      `${endpoint.envPrefix}_CA_FILE=${endpoint.caFile} cannot be read: ${(error as Error).message}`,
      'config',
    );
  }
}

function formatSeconds(ms: number): string {
  return `${Math.round(ms / 100) / 10} s`;
}

function unreachable(endpoint: MonitoringEndpoint, url: string, error: Error): MonitoringError {
  const code = (error as { code?: string }).code;
  const tls = /certificate|self.signed|SSL|TLS/i.test(`${code ?? ''} ${error.message}`);
  return new MonitoringError(
    `cannot reach ${endpoint.title} at ${new URL(url).origin}: ${error.message}${tls ? ` (set ${endpoint.envPrefix}_CA_FILE, or ${endpoint.envPrefix}_TLS_SKIP_VERIFY=true to accept any certificate)` : ''}`,
    'unreachable',
  );
}

/**
 * The same request made on the target (curl, or wget when it can: see runtime/target-http.ts).
 * Any endpoint header may carry a credential (`_API_KEY`, `_HEADERS`), so with one set only curl,
 * which reads them from a here-document, is used.
 */
async function requestFromTarget(
  request: MonitoringRequest & { url: string; timeoutMs: number; runtime: Runtime },
): Promise<{ status: number; body: string }> {
  const { endpoint } = request;
  const origin = `${endpoint.title} at ${new URL(request.url).origin} (from the target)`;
  let caPem: string | undefined;
  if (endpoint.caFile) caPem = readCaFile(endpoint);
  let response;
  try {
    response = await requestOnTarget({
      runtime: request.runtime,
      url: request.url,
      method: request.method ?? 'GET',
      userAgent: 'opsmate',
      headers: {
        ...endpoint.headers,
        ...(request.json !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      // Every header but accept came from _API_KEY, _USER_ID or _HEADERS.
      secretHeaders: Object.keys(endpoint.headers).some((name) => name !== 'accept'),
      ...(request.json !== undefined ? { body: JSON.stringify(request.json) } : {}),
      ...(caPem ? { caPem } : {}),
      insecure: endpoint.skipTlsVerify,
      maxRedirects: 0,
      timeoutMs: request.timeoutMs,
      maxBytes: MAX_RESPONSE_BYTES,
      signal: request.signal,
    });
  } catch (error) {
    if (!(error instanceof FetchFailure)) throw error;
    if (error.message === 'cancelled') throw new MonitoringError('cancelled', 'cancelled');
    if (error.timedOut)
      throw new MonitoringError(
        `${origin} did not answer within ${formatSeconds(request.timeoutMs)}`,
        'timeout',
      );
    throw new MonitoringError(
      `cannot reach ${endpoint.title} at ${new URL(request.url).origin} from the target: ${oneLine(error.clientText) || error.message}`,
      'unreachable',
    );
  }
  if (response.client === 'none')
    throw new MonitoringError(
      `${endpoint.envPrefix}_FROM=target: cannot reach ${endpoint.title}: ${response.reason}`,
      'unreachable',
    );
  if (response.cut)
    throw new MonitoringError(
      `${endpoint.title} sent more than ${MAX_RESPONSE_BYTES / 1024 / 1024} MiB: narrow the request`,
      'http',
    );
  if (response.status === undefined) throw new MonitoringError(`${origin} sent no HTTP status line`, 'http');
  const body = response.body.toString('utf8');
  if (response.client === 'wget' && response.status >= 400 && body === '')
    return {
      status: response.status,
      body: `HTTP ${response.status} ${response.statusText} (wget on the target keeps no error body; with curl there the server's message would show)`,
    };
  return { status: response.status, body };
}
