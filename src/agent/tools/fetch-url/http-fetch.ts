import type { Runtime } from '../../../runtime/contract.js';
import { shellQuote } from '../../../runtime/shell-session/shell-quote.js';

/** Redirects followed at most, on the target and here alike. */
export const MAX_REDIRECTS = 5;
const USER_AGENT = 'opsmate-fetch';
const ACCEPT = 'text/html, application/json;q=0.9, text/plain;q=0.8, */*;q=0.5';
const CLIENT_MARKER = '@@opsmate-client';

/** One response, wherever it was fetched from. */
export interface FetchedResponse {
  /** `curl` or `wget` on the target, or `node` on the opsmate machine. */
  client: 'curl' | 'wget' | 'node';
  status: number | undefined;
  statusText: string;
  /** The last response's headers, names lower-cased. */
  headers: Record<string, string>;
  /** Where each redirect pointed, in order. */
  redirects: string[];
  body: Buffer;
  /** The body was longer than the cap and was cut. */
  cut: boolean;
}

/** The fetch could not get a response; `connect` when it never reached the server. */
export class FetchFailure extends Error {
  readonly connect: boolean;
  /** The client's own words (stderr), for the model as untrusted data. */
  readonly clientText: string;

  constructor(message: string, options: { connect?: boolean; clientText?: string } = {}) {
    super(message);
    this.name = 'FetchFailure';
    this.connect = options.connect ?? false;
    this.clientText = options.clientText ?? '';
  }
}

/** curl's exit codes that mean the server was never reached (resolve, connect, timeout, TLS). */
const CURL_CONNECT_FAILURES = new Set([5, 6, 7, 28, 35, 60]);

/**
 * Fetches with curl, else wget, on the target through the runtime (GET only, no body, no output
 * file), so addresses only the target can reach work. Resolves `undefined` when the target has
 * neither. The body travels base64-encoded, cut at `maxBytes`.
 */
export async function fetchOnTarget(options: {
  runtime: Runtime;
  url: string;
  timeoutMs: number;
  maxBytes: number;
  signal: AbortSignal;
}): Promise<FetchedResponse | undefined> {
  const seconds = Math.max(1, Math.ceil(options.timeoutMs / 1000));
  const u = shellQuote(options.url);
  const curl = [
    'curl -sS -L',
    `--max-redirs ${MAX_REDIRECTS}`,
    `--max-time ${seconds}`,
    '--proto =http,https --proto-redir =http,https',
    `-A ${USER_AGENT}`,
    `-H ${shellQuote(`Accept: ${ACCEPT}`)}`,
    '-D - -o - --',
    u,
  ].join(' ');
  const wget = `wget -q -S -O - -U ${USER_AGENT} ${u}`;
  const pipe = (client: string) =>
    `st=$( { { ${client}; echo $? >&4; } | head -c ${options.maxBytes + 1} | base64 >&3; } 4>&1 )`;
  const script = `( exec 3>&1
  if command -v curl >/dev/null 2>&1; then c=curl; ${pipe(curl)}
  elif command -v wget >/dev/null 2>&1; then c=wget; ${pipe(wget)}
  else echo "${CLIENT_MARKER} none"; exit 0; fi
  echo "${CLIENT_MARKER} $c $st" )`;
  const chunks: Buffer[] = [];
  const result = await options.runtime.run(script, {
    timeoutMs: options.timeoutMs + 10_000,
    signal: options.signal,
    onOutput: (chunk) => {
      if (chunk.stream === 'stdout') chunks.push(Buffer.from(chunk.data));
    },
  });
  const text = Buffer.concat(chunks).toString('utf8');
  if (result.cancelled) throw new FetchFailure('cancelled');
  if (result.exitCode === null)
    throw new FetchFailure(result.notice ?? 'the fetch did not finish', { clientText: result.stderr.trim() });
  const at = text.lastIndexOf(CLIENT_MARKER);
  const trailer = at < 0 ? '' : text.slice(at + CLIENT_MARKER.length).trim();
  if (trailer === 'none') return undefined;
  const [client, statusText] = trailer.split(/\s+/);
  if (client !== 'curl' && client !== 'wget') {
    throw new FetchFailure('the fetch script on the target did not report', {
      clientText: result.stderr.trim(),
    });
  }
  const exit = Number(statusText);
  let data = Buffer.from(text.slice(0, Math.max(0, at)).replace(/\s+/g, ''), 'base64');
  if (client === 'curl') {
    const parsed = parseHeaderBlocks(data);
    const cut = parsed.body.length > options.maxBytes;
    // 23: curl could not write because the body was cut at the cap (head closed the pipe).
    if (exit !== 0 && !(exit === 23 && cut) && parsed.status === undefined) {
      throw new FetchFailure(`curl failed (exit ${exit})`, {
        connect: CURL_CONNECT_FAILURES.has(exit),
        clientText: result.stderr.trim(),
      });
    }
    return {
      client,
      status: parsed.status,
      statusText: parsed.statusText,
      headers: parsed.headers,
      redirects: parsed.redirects,
      body: parsed.body.subarray(0, options.maxBytes),
      cut,
    };
  }
  const parsed = parseWgetHeaders(result.stderr);
  const cut = data.length > options.maxBytes;
  data = data.subarray(0, options.maxBytes);
  if (parsed.status === undefined) {
    throw new FetchFailure(`wget failed (exit ${exit})`, {
      connect: /can't connect|connection refused|bad address|timed out|unable to resolve/i.test(
        result.stderr,
      ),
      clientText: result.stderr.trim(),
    });
  }
  return { client, ...parsed, body: data, cut };
}

/** Fetches from the opsmate machine itself (Node's fetch), redirects followed by hand. */
export async function fetchLocally(options: {
  url: string;
  timeoutMs: number;
  maxBytes: number;
  signal: AbortSignal;
}): Promise<FetchedResponse> {
  const signal = AbortSignal.any([options.signal, AbortSignal.timeout(options.timeoutMs)]);
  const redirects: string[] = [];
  let url = options.url;
  for (;;) {
    let response: Response;
    try {
      response = await fetch(url, {
        method: 'GET',
        redirect: 'manual',
        headers: { 'user-agent': USER_AGENT, accept: ACCEPT },
        signal,
      });
    } catch (error) {
      if (options.signal.aborted) throw new FetchFailure('cancelled');
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      const timedOut = signal.aborted;
      throw new FetchFailure(
        timedOut ? `no response within ${Math.round(options.timeoutMs / 1000)} s` : `could not connect`,
        { connect: true, clientText: cause?.message ?? (error as Error).message },
      );
    }
    const location = response.headers.get('location');
    if (response.status >= 300 && response.status < 400 && location) {
      await response.body?.cancel();
      const next = new URL(location, url);
      if (next.protocol !== 'http:' && next.protocol !== 'https:') {
        throw new FetchFailure(`a redirect to ${next.protocol} was not followed (http and https only)`);
      }
      if (redirects.length >= MAX_REDIRECTS) throw new FetchFailure(`more than ${MAX_REDIRECTS} redirects`);
      redirects.push(next.href);
      url = next.href;
      continue;
    }
    const { body, cut } = await readCapped(response, options.maxBytes);
    const headers: Record<string, string> = {};
    response.headers.forEach((value, name) => (headers[name.toLowerCase()] = value));
    return {
      client: 'node',
      status: response.status,
      statusText: response.statusText,
      headers,
      redirects,
      body,
      cut,
    };
  }
}

async function readCapped(response: Response, maxBytes: number): Promise<{ body: Buffer; cut: boolean }> {
  const reader = response.body?.getReader();
  if (!reader) return { body: Buffer.alloc(0), cut: false };
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return { body: Buffer.concat(chunks), cut: false };
      chunks.push(Buffer.from(value));
      size += value.length;
      if (size > maxBytes) return { body: Buffer.concat(chunks).subarray(0, maxBytes), cut: true };
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}

/** curl `-D -` output: one header block per response (redirects, 100 Continue), then the body. */
export function parseHeaderBlocks(data: Buffer): {
  status: number | undefined;
  statusText: string;
  headers: Record<string, string>;
  redirects: string[];
  body: Buffer;
} {
  let rest = data;
  let status: number | undefined;
  let statusText = '';
  let headers: Record<string, string> = {};
  const redirects: string[] = [];
  while (rest.subarray(0, 5).toString('latin1') === 'HTTP/') {
    let end = rest.indexOf('\r\n\r\n');
    let separator = 4;
    if (end < 0) {
      end = rest.indexOf('\n\n');
      separator = 2;
    }
    if (end < 0) end = rest.length;
    const lines = rest.subarray(0, end).toString('latin1').split(/\r?\n/);
    rest = rest.subarray(Math.min(rest.length, end + separator));
    const statusLine = /^HTTP\/[\d.]+\s+(\d{3})\s*(.*)$/.exec(lines[0] ?? '');
    status = statusLine ? Number(statusLine[1]) : undefined;
    statusText = statusLine?.[2]?.trim() ?? '';
    headers = {};
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    if (status !== undefined && status >= 300 && status < 400 && headers.location)
      redirects.push(headers.location);
  }
  return { status, statusText, headers, redirects, body: rest };
}

/** wget `-S` prints each response's headers on stderr, indented by two spaces. */
function parseWgetHeaders(stderr: string): {
  status: number | undefined;
  statusText: string;
  headers: Record<string, string>;
  redirects: string[];
} {
  let status: number | undefined;
  let statusText = '';
  let headers: Record<string, string> = {};
  const redirects: string[] = [];
  for (const raw of stderr.split('\n')) {
    const line = raw.trim();
    const statusLine = /^HTTP\/[\d.]+\s+(\d{3})\s*(.*)$/.exec(line);
    if (statusLine) {
      status = Number(statusLine[1]);
      statusText = statusLine[2]?.trim() ?? '';
      headers = {};
      continue;
    }
    const colon = line.indexOf(':');
    if (status !== undefined && colon > 0 && /^\s/.test(raw)) {
      const name = line.slice(0, colon).trim().toLowerCase();
      headers[name] = line.slice(colon + 1).trim();
      if (name === 'location') redirects.push(headers[name]!);
    }
  }
  return { status, statusText, headers, redirects };
}
