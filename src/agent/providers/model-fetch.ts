import { ModelError } from './model-error.js';

/** Attempts after the first one for a failure worth retrying (HTTP 408, 409, 429, 5xx, a reset). */
export const DEFAULT_MODEL_RETRIES = 2;
/** Wait before the first retry; doubled each time. A server's `retry-after` wins when shorter than a minute. */
const FIRST_RETRY_DELAY_MS = 2_000;
const MAX_RETRY_AFTER_MS = 60_000;

/** Set on a response that came after retries: how many requests it took. */
export const ATTEMPTS_HEADER = 'x-opsmate-attempts';

/** What the user is told before a retry: `HTTP 500, retrying (1/2) in 2s`. */
export interface ModelRetry {
  url: string;
  /** The HTTP status, or the network error's code (`ECONNRESET`). */
  reason: string;
  /** 1 for the first retry. */
  attempt: number;
  retries: number;
  delayMs: number;
}

/** Listeners set once the CLI knows where to show them (after the model was built). */
export interface ModelFetchEvents {
  onRetry?: (retry: ModelRetry) => void;
}

/**
 * The `fetch` every provider's SDK is given. opsmate retries here, not in the SDK (call it with
 * `maxRetries: 0`), so that each retry can be shown as it happens rather than as a silent pause.
 *
 * - A refused connection or an unknown host fails at once with a ModelError naming the URL.
 * - HTTP 408/409/429/5xx and a connection reset are retried `retries` times, with backoff (2 s,
 *   4 s...) or the server's `retry-after`/`retry-after-ms` when under a minute; `events.onRetry`
 *   is called before each wait. The last failure is returned to the SDK as it came.
 * - `timeoutMs` bounds the wait for the response headers and every pause in the streamed body:
 *   a hung server ends with a ModelError naming it and the setting, not a blank screen.
 * - The caller's abort signal ends a wait or a retry at once.
 */
export function modelFetch(options: {
  timeoutMs: number;
  retries?: number;
  events?: ModelFetchEvents;
  fetch?: typeof globalThis.fetch;
}): typeof globalThis.fetch {
  const retries = options.retries ?? DEFAULT_MODEL_RETRIES;
  const inner = options.fetch ?? globalThis.fetch;
  return async (input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const callerSignal = init?.signal ?? undefined;
    for (let attempt = 0; ; attempt++) {
      const timeout = new AbortController();
      const timer = setTimeout(() => timeout.abort(), options.timeoutMs);
      timer.unref();
      const signal = callerSignal ? AbortSignal.any([callerSignal, timeout.signal]) : timeout.signal;
      let response: Response;
      try {
        response = await inner(input, { ...init, signal });
      } catch (error) {
        clearTimeout(timer);
        if (callerSignal?.aborted) throw error;
        if (timeout.signal.aborted) throw timeoutError(url, options.timeoutMs);
        const code = networkCode(error);
        if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
          // No `cause`: the SDK walks the cause chain and would turn a refused connection into a retry.
          throw new ModelError(
            `cannot connect to ${url}: ${code === 'ECONNREFUSED' ? 'connection refused' : 'host not found'}`,
            {
              hint: 'check the server is running and that the base URL setting (OPENAI_BASE_URL, ANTHROPIC_BASE_URL, OLLAMA_HOST...) points at it',
            },
          );
        }
        if (attempt < retries && (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET')) {
          await pause({
            url,
            reason: code,
            attempt,
            retries,
            delay: backoff(attempt),
            options,
            callerSignal,
          });
          continue;
        }
        throw error;
      }
      clearTimeout(timer);
      if (attempt < retries && retryable(response.status)) {
        const delay = retryAfter(response.headers) ?? backoff(attempt);
        await response.body?.cancel().catch(() => {});
        await pause({
          url,
          reason: `HTTP ${response.status}`,
          attempt,
          retries,
          delay,
          options,
          callerSignal,
        });
        continue;
      }
      return watchBody(response, { url, timeoutMs: options.timeoutMs, timeout, attempts: attempt + 1 });
    }
  };
}

function retryable(status: number): boolean {
  return status === 408 || status === 409 || status === 429 || status >= 500;
}

function backoff(attempt: number): number {
  return FIRST_RETRY_DELAY_MS * 2 ** attempt;
}

function retryAfter(headers: Headers): number | undefined {
  const ms = Number(headers.get('retry-after-ms'));
  if (headers.has('retry-after-ms') && Number.isFinite(ms) && ms >= 0 && ms < MAX_RETRY_AFTER_MS) return ms;
  const seconds = Number(headers.get('retry-after'));
  if (
    headers.has('retry-after') &&
    Number.isFinite(seconds) &&
    seconds >= 0 &&
    seconds * 1000 < MAX_RETRY_AFTER_MS
  ) {
    return seconds * 1000;
  }
  return undefined;
}

async function pause(options: {
  url: string;
  reason: string;
  attempt: number;
  retries: number;
  delay: number;
  options: { events?: ModelFetchEvents };
  callerSignal: AbortSignal | undefined;
}): Promise<void> {
  options.options.events?.onRetry?.({
    url: options.url,
    reason: options.reason,
    attempt: options.attempt + 1,
    retries: options.retries,
    delayMs: options.delay,
  });
  const signal = options.callerSignal;
  if (signal?.aborted) throw signal.reason;
  await new Promise<void>((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason as Error);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, options.delay);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** The body, failing with the timeout error when the server goes quiet for `timeoutMs`. */
function watchBody(
  response: Response,
  options: { url: string; timeoutMs: number; timeout: AbortController; attempts: number },
): Response {
  const headers = new Headers(response.headers);
  // For the error message of a failure that was retried: "gave up after 3 attempts".
  if (options.attempts > 1) headers.set(ATTEMPTS_HEADER, String(options.attempts));
  const body = response.body;
  if (!body) return new Response(null, { status: response.status, statusText: response.statusText, headers });
  const reader = body.getReader();
  let timer: NodeJS.Timeout | undefined;
  const watched = new ReadableStream<Uint8Array>({
    pull: async (controller) => {
      const quiet = new Promise<'quiet'>((resolve) => {
        timer = setTimeout(() => resolve('quiet'), options.timeoutMs);
        timer.unref();
      });
      const next = await Promise.race([reader.read(), quiet]);
      clearTimeout(timer);
      if (next === 'quiet') {
        options.timeout.abort();
        await reader.cancel().catch(() => {});
        controller.error(timeoutError(options.url, options.timeoutMs));
        return;
      }
      if (next.done) controller.close();
      else controller.enqueue(next.value);
    },
    cancel: async (reason) => {
      clearTimeout(timer);
      await reader.cancel(reason);
    },
  });
  return new Response(watched, { status: response.status, statusText: response.statusText, headers });
}

function timeoutError(url: string, timeoutMs: number): ModelError {
  return new ModelError(`no answer from ${url} in ${timeoutMs / 1000}s: the model server hung`, {
    hint: 'check the server, or allow it longer with --model-timeout SECONDS (env OPSMATE_MODEL_TIMEOUT)',
  });
}

function networkCode(error: unknown): string | undefined {
  for (let current: unknown = error, depth = 0; current && depth < 5; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    const errors = (current as { errors?: unknown }).errors;
    if (Array.isArray(errors) && errors.length > 0) current = errors[0];
    else current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}
