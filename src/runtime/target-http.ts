/**
 * HTTP requests made on the target, through its runtime, with the client the target has: curl,
 * else wget (busybox's or GNU's). FetchUrl and the monitoring tools both reach addresses only
 * the target can see this way, so what the one client can and cannot do is decided once.
 *
 * What never happens: a header value in a command line on the target (curl reads headers from a
 * here-document; wget, which can only take them as arguments, is not used for secret headers),
 * a body in a command line, an output file, or a scheme other than http and https.
 */
import { randomBytes } from 'node:crypto';
import type { Runtime } from './contract.js';
import { shellQuote } from './shell-session/shell-quote.js';

const CLIENT_MARKER = '@@opsmate-http-client';
const EXIT_MARKER = '@@opsmate-http-exit';

export interface TargetHttpRequest {
  runtime: Runtime;
  url: string;
  method?: 'GET' | 'POST' | 'DELETE';
  /** Request headers. Never on a command line when `secretHeaders` (see the module comment). */
  headers?: Record<string, string>;
  userAgent?: string;
  /** The headers carry credentials: curl only. */
  secretHeaders?: boolean;
  /** Sent as the request body (POST). */
  body?: string;
  /** A CA certificate (PEM) to trust instead of the target's own store: curl only. */
  caPem?: string;
  /** Accept any certificate. */
  insecure?: boolean;
  /** Follow up to this many redirects (0: none, a 3xx is the answer). wget always follows. */
  maxRedirects: number;
  timeoutMs: number;
  /** Body bytes kept at most; a longer body is cut and `cut` set. */
  maxBytes: number;
  signal: AbortSignal;
}

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
  /** busybox wget keeps no body of an error answer (4xx, 5xx): empty then. */
  body: Buffer;
  /** The body was longer than the cap and was cut. */
  cut: boolean;
}

/** The request could not get a response. */
export class FetchFailure extends Error {
  /** It never reached the server: resolve, connect, TLS, or no answer in time. */
  readonly connect: boolean;
  readonly timedOut: boolean;
  /** The client's own words (stderr), for the model as untrusted data. */
  readonly clientText: string;

  constructor(message: string, options: { connect?: boolean; timedOut?: boolean; clientText?: string } = {}) {
    super(message);
    this.name = 'FetchFailure';
    this.connect = options.connect ?? options.timedOut ?? false;
    this.timedOut = options.timedOut ?? false;
    this.clientText = options.clientText ?? '';
  }
}

/** The target has no client that can make this request; `reason` says why, as a clause. */
export interface NoClient {
  client: 'none';
  reason: string;
}

/** curl's exit codes that mean the server was never reached (resolve, connect, timeout, TLS). */
const CURL_CONNECT_FAILURES = new Set([5, 6, 7, 28, 35, 60]);
const CURL_TIMEOUT = 28;

/** Why wget cannot make this request, or undefined when it can. */
function wgetCannot(request: TargetHttpRequest): string | undefined {
  if (request.secretHeaders && Object.keys(request.headers ?? {}).length > 0)
    return 'wget would put the credentials on its command line, where other users of the target can read them';
  if (request.caPem) return 'wget cannot be given a CA certificate to trust';
  if (request.method === 'DELETE') return 'busybox wget cannot send DELETE';
  return undefined;
}

/**
 * Makes the request on the target. Resolves the response (any status), or `NoClient` when the
 * target has no client that can make it; throws FetchFailure when no response came.
 */
export async function requestOnTarget(request: TargetHttpRequest): Promise<FetchedResponse | NoClient> {
  const tag = `OPSMATE_${randomBytes(6).toString('hex')}`;
  const seconds = Math.max(1, Math.ceil(request.timeoutMs / 1000));
  const url = shellQuote(request.url);
  const method = request.method ?? 'GET';
  const headers = Object.entries(request.headers ?? {});
  for (const [name, value] of headers) {
    // One header per line of the here-document: a line break would smuggle in another header.
    if (/[\r\n]/.test(`${name}${value}`)) throw new FetchFailure(`the ${name} header holds a line break`);
  }
  const hasBody = request.body !== undefined;
  // Here-documents on one command: their texts follow in the order of the redirections.
  const documents: Array<[fd: string, text: string]> = [
    ...(hasBody ? ([['', request.body!]] as Array<[string, string]>) : []),
    ...(headers.length > 0
      ? ([['3', headers.map(([name, value]) => `${name}: ${value}`).join('\n')]] as Array<[string, string]>)
      : []),
    ...(request.caPem ? ([['5', request.caPem.trimEnd()]] as Array<[string, string]>) : []),
  ];
  const curl = [
    'curl -sS',
    ...(request.maxRedirects > 0 ? ['-L', `--max-redirs ${request.maxRedirects}`] : []),
    `--max-time ${seconds}`,
    '--proto =http,https --proto-redir =http,https',
    `-X ${method}`,
    ...(request.userAgent ? [`-A ${shellQuote(request.userAgent)}`] : []),
    ...(headers.length > 0 ? ['-H @/dev/fd/3'] : []),
    ...(request.insecure ? ['-k'] : []),
    ...(request.caPem ? ['--cacert /dev/fd/5'] : []),
    ...(hasBody ? ['--data-binary @-'] : []),
    '-D - -o - --',
    url,
    ...documents.map(([fd]) => `${fd}<<'${tag}'`),
  ].join(' ');
  const cannot = wgetCannot(request);
  const wget = [
    'wget -q -S -O -',
    ...(request.userAgent ? [`-U ${shellQuote(request.userAgent)}`] : []),
    // busybox and GNU wget take headers only as arguments: wgetCannot keeps secret ones away.
    ...headers.map(([name, value]) => `--header ${shellQuote(`${name}: ${value}`)}`),
    ...(request.insecure ? ['--no-check-certificate'] : []),
    ...(hasBody ? ['--post-file /dev/stdin'] : []),
    url,
    ...(hasBody ? [`<<'${tag}'`] : []),
  ].join(' ');
  const cap = `| head -c ${request.maxBytes + 1} | base64`;
  const script = [
    '( c=none',
    'if command -v curl >/dev/null 2>&1; then c=curl',
    ...(cannot ? [] : ['elif command -v wget >/dev/null 2>&1; then c=wget']),
    'fi',
    `echo "${CLIENT_MARKER} $c" >&2`,
    'case $c in',
    `curl) { ${curl}`,
    ...documents.flatMap(([, text]) => [text, tag]),
    `echo "${EXIT_MARKER} $?" >&2; } ${cap} ;;`,
    ...(cannot
      ? []
      : [
          `wget) { ${wget}`,
          ...(hasBody ? [request.body!, tag] : []),
          `echo "${EXIT_MARKER} $?" >&2; } ${cap} ;;`,
        ]),
    'esac )',
  ].join('\n');
  const chunks: Buffer[] = [];
  const result = await request.runtime.run(script, {
    // curl stops itself at --max-time; busybox wget has no timeout, so the runtime's is the one.
    timeoutMs: request.timeoutMs + (cannot ? 10_000 : 2_000),
    signal: request.signal,
    onOutput: (chunk) => {
      if (chunk.stream === 'stdout') chunks.push(Buffer.from(chunk.data));
    },
  });
  if (result.cancelled) throw new FetchFailure('cancelled');
  const stderr = result.stderr;
  if (result.timedOut)
    throw new FetchFailure(`no response within ${seconds} s`, {
      timedOut: true,
      clientText: clientWords(stderr),
    });
  if (result.exitCode === null)
    throw new FetchFailure(result.notice ?? 'the request did not finish', {
      clientText: clientWords(stderr),
    });
  const client = lastMarker(stderr, CLIENT_MARKER);
  if (client === 'none') {
    return {
      client: 'none',
      reason: cannot ? `the target has no curl, and ${cannot}` : 'the target has neither curl nor wget',
    };
  }
  if (client !== 'curl' && client !== 'wget')
    throw new FetchFailure('the request script on the target did not report', {
      clientText: clientWords(stderr),
    });
  const exit = Number(lastMarker(stderr, EXIT_MARKER) ?? -1);
  const data = Buffer.from(Buffer.concat(chunks).toString('latin1').replace(/\s+/g, ''), 'base64');
  const said = clientWords(stderr);
  if (client === 'curl') {
    const parsed = parseHeaderBlocks(data);
    const cut = parsed.body.length > request.maxBytes;
    // 23: curl could not write because the body was cut at the cap (head closed the pipe).
    if (exit !== 0 && !(exit === 23 && cut) && parsed.status === undefined) {
      if (exit === CURL_TIMEOUT)
        throw new FetchFailure(`no response within ${seconds} s`, { timedOut: true, clientText: said });
      throw new FetchFailure(`curl failed (exit ${exit})`, {
        connect: CURL_CONNECT_FAILURES.has(exit),
        clientText: said,
      });
    }
    return { client, ...parsed, body: parsed.body.subarray(0, request.maxBytes), cut };
  }
  const parsed = parseWgetHeaders(stderr);
  if (parsed.status === undefined) {
    throw new FetchFailure(`wget failed (exit ${exit})`, {
      connect:
        /can't connect|connection refused|bad address|timed out|unable to resolve|network is unreachable/i.test(
          said,
        ),
      clientText: said,
    });
  }
  return { client, ...parsed, body: data.subarray(0, request.maxBytes), cut: data.length > request.maxBytes };
}

/** The value after the last `marker ` line in `text`. */
function lastMarker(text: string, marker: string): string | undefined {
  const at = text.lastIndexOf(`${marker} `);
  if (at < 0) return undefined;
  return text
    .slice(at + marker.length + 1)
    .split('\n')[0]!
    .trim();
}

/** stderr without opsmate's markers and wget's response headers: what the client itself said. */
function clientWords(stderr: string): string {
  return stderr
    .split('\n')
    .filter(
      (line) =>
        !line.startsWith(CLIENT_MARKER) &&
        !line.startsWith(EXIT_MARKER) &&
        !/^ {2}\S/.test(line) &&
        line.trim() !== '',
    )
    .join('\n')
    .trim();
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
    if (statusLine && /^\s/.test(raw)) {
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
