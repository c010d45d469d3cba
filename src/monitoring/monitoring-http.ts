import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Runtime } from '../runtime/contract.js';
import { shellQuote } from '../runtime/shell-session/shell-quote.js';
import type { MonitoringEndpoint } from './monitoring-endpoints.js';

/** Bytes of a response read at most; a bigger one is an error, not a silent cut. */
export const MAX_RESPONSE_BYTES = 32 * 1024 * 1024;
export const DEFAULT_MONITORING_TIMEOUT_MS = 30_000;
const STATUS_MARKER = '@@opsmate-http';

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
    response = await requestOnTarget({ ...request, url, timeoutMs, runtime: request.runtime });
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
  let ca: Buffer | undefined;
  if (endpoint.caFile) {
    try {
      ca = readFileSync(endpoint.caFile);
    } catch (error) {
      throw new MonitoringError(
        `${endpoint.envPrefix}_CA_FILE=${endpoint.caFile} cannot be read: ${(error as Error).message}`,
        'config',
      );
    }
  }
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
 * The same request with curl on the target. Headers and body travel in here-documents, so no
 * secret is in curl's argv; the answer comes back base64-encoded with the status after a marker.
 */
async function requestOnTarget(
  request: MonitoringRequest & { url: string; timeoutMs: number; runtime: Runtime },
): Promise<{ status: number; body: string }> {
  const { endpoint } = request;
  const tag = `OPSMATE_${randomBytes(6).toString('hex')}`;
  const headerLines = Object.entries({
    ...endpoint.headers,
    ...(request.json !== undefined ? { 'content-type': 'application/json' } : {}),
  }).map(([name, value]) => `${name}: ${value}`);
  const seconds = Math.max(1, Math.ceil(request.timeoutMs / 1000));
  const ca = endpoint.caFile ? readFileSync(endpoint.caFile, 'utf8') : undefined;
  const curl = [
    'curl -sS',
    `--max-time ${seconds}`,
    '--proto =http,https',
    `-X ${request.method ?? 'GET'}`,
    '-H @/dev/fd/3',
    ...(endpoint.skipTlsVerify ? ['-k'] : []),
    ...(ca ? ['--cacert /dev/fd/5'] : []),
    ...(request.json !== undefined ? ['--data-binary @-'] : []),
    `-w '\\n${STATUS_MARKER} %{http_code}\\n'`,
    '-o -',
    '--',
    shellQuote(request.url),
  ].join(' ');
  // Several here-documents on one command: their texts follow in the order of the redirections.
  const documents: Array<[string, string]> = [
    ...(request.json !== undefined ? ([['', JSON.stringify(request.json)]] as Array<[string, string]>) : []),
    ['3', headerLines.join('\n')],
    ...(ca ? ([['5', ca.trimEnd()]] as Array<[string, string]>) : []),
  ];
  const script = [
    `command -v curl >/dev/null 2>&1 || { echo "${STATUS_MARKER} nocurl"; exit 0; }`,
    `{ ${curl} ${documents.map(([fd]) => `${fd}<<'${tag}'`).join(' ')}`,
    ...documents.flatMap(([, text]) => [text, tag]),
    `echo "${STATUS_MARKER}-exit $?"; } | base64`,
  ].join('\n');
  const chunks: Buffer[] = [];
  const result = await request.runtime.run(script, {
    timeoutMs: request.timeoutMs + 10_000,
    signal: request.signal,
    onOutput: (chunk) => {
      if (chunk.stream === 'stdout') chunks.push(Buffer.from(chunk.data));
    },
  });
  if (result.cancelled) throw new MonitoringError('cancelled', 'cancelled');
  const raw = Buffer.concat(chunks).toString('utf8');
  if (raw.includes(`${STATUS_MARKER} nocurl`))
    throw new MonitoringError(
      `${endpoint.envPrefix}_FROM=target: the target has no curl to reach ${endpoint.title} with`,
      'unreachable',
    );
  const text = Buffer.from(raw.replace(/\s+/g, ''), 'base64').toString('utf8');
  const exit = /@@opsmate-http-exit (\d+)/.exec(text);
  const status = new RegExp(`\\n?${STATUS_MARKER} (\\d{3})\\n`).exec(text);
  const code = Number(exit?.[1] ?? -1);
  if (!status || status[1] === '000') {
    const said = oneLine(result.stderr) || `curl exit ${code}`;
    if (code === 28)
      throw new MonitoringError(
        `${endpoint.title} at ${new URL(request.url).origin} (from the target) did not answer within ${seconds} s`,
        'timeout',
      );
    throw new MonitoringError(
      `cannot reach ${endpoint.title} at ${new URL(request.url).origin} from the target: ${said}`,
      'unreachable',
    );
  }
  return { status: Number(status[1]), body: text.slice(0, status.index) };
}
