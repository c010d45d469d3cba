import type { Runtime } from '../../../runtime/contract.js';
import {
  FetchFailure,
  requestOnTarget,
  type FetchedResponse,
  type NoClient,
} from '../../../runtime/target-http.js';

export { FetchFailure, type FetchedResponse };

/** Redirects followed at most, on the target and here alike. */
export const MAX_REDIRECTS = 5;
const USER_AGENT = 'opsmate-fetch';
const ACCEPT = 'text/html, application/json;q=0.9, text/plain;q=0.8, */*;q=0.5';

/**
 * Fetches with curl, else wget, on the target through the runtime (GET, no output file), so
 * addresses only the target can reach work.
 */
export async function fetchOnTarget(options: {
  runtime: Runtime;
  url: string;
  timeoutMs: number;
  maxBytes: number;
  signal: AbortSignal;
}): Promise<FetchedResponse | NoClient> {
  return await requestOnTarget({
    ...options,
    userAgent: USER_AGENT,
    headers: { Accept: ACCEPT },
    maxRedirects: MAX_REDIRECTS,
  });
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
