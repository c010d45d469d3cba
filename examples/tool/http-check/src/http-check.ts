import { defineTool, wrapUntrusted, z } from 'opsmate';

/** Most of a body the model is shown. */
const BODY_LIMIT_BYTES = 4096;
const HEADERS_SHOWN = [
  'content-type',
  'content-length',
  'server',
  'location',
  'cache-control',
  'retry-after',
];

/**
 * Fetches a URL with GET (or HEAD) from the machine opsmate runs on, and reports the status,
 * a few headers, the time taken and the start of the body. It only reads, so the command policy
 * lets it run unasked; every call is still audited and its output masked for secrets.
 */
export default defineTool({
  name: 'HttpCheck',
  summary: 'Fetches a URL from the opsmate machine: status, headers, timing and the start of the body',
  description: `Fetch an http(s) URL from the machine opsmate runs on (not from the target) and get the HTTP status, a few response headers, how long it took, and the first ${BODY_LIMIT_BYTES} bytes of the body.
Use it to check whether a web service or health endpoint answers, and what it says. It never sends a body and follows no redirects, so a 30x shows where it points.`,
  readOnly: true,
  inputSchema: z.object({
    url: z.url({ protocol: /^https?$/ }).describe('The http:// or https:// URL to fetch'),
    method: z
      .enum(['GET', 'HEAD'])
      .default('GET')
      .describe('GET reads the body, HEAD only the status and headers'),
    timeout: z.number().positive().max(60).default(10).describe('Seconds to wait for the answer'),
  }),
  title: (input) => `${input.method} ${input.url}`,
  async execute(input, _context, options) {
    const started = performance.now();
    const signal = AbortSignal.any([options.signal, AbortSignal.timeout(input.timeout * 1000)]);
    let response: Response;
    try {
      response = await fetch(input.url, { method: input.method, redirect: 'manual', signal });
    } catch (error) {
      const reason =
        (error as Error).name === 'TimeoutError'
          ? `no answer within ${input.timeout} s`
          : describeFetchError(error);
      const text = `${input.method} ${input.url} failed: ${reason}`;
      return { llmContent: text, display: { kind: 'text', text }, isError: true };
    }
    const body = input.method === 'HEAD' ? '' : await readStart(response, BODY_LIMIT_BYTES);
    const elapsed = Math.round(performance.now() - started);
    const headers = HEADERS_SHOWN.flatMap((name) => {
      const value = response.headers.get(name);
      return value === null ? [] : [`${name}: ${value}`];
    });
    const lines = [
      `${input.method} ${input.url}`,
      `HTTP ${response.status} ${response.statusText}`.trimEnd(),
      `Time: ${elapsed} ms`,
      ...headers,
    ];
    if (input.method === 'GET')
      lines.push(
        body === ''
          ? 'Body: (empty)'
          : `Body (first ${BODY_LIMIT_BYTES} bytes at most):\n${wrapUntrusted('http-body', body)}`,
      );
    const text = lines.join('\n');
    return { llmContent: text, display: { kind: 'text', text: lines.slice(0, 3).join('\n') } };
  },
});

async function readStart(response: Response, limit: number): Promise<string> {
  const reader = response.body?.getReader();
  if (!reader) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < limit) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.length;
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  return Buffer.concat(chunks).subarray(0, limit).toString('utf8');
}

function describeFetchError(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error as Error).message;
}
