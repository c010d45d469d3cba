import type { Runtime } from '../runtime/contract.js';
import type { MonitoringEndpoint } from './monitoring-endpoints.js';
import { MonitoringError, monitoringRequest } from './monitoring-http.js';

/** Lines a log query returns when no limit is given, and at most. */
export const DEFAULT_LOG_LINES = 100;
export const MAX_LOG_LINES = 1000;

export interface LokiAccess {
  endpoint: MonitoringEndpoint;
  signal: AbortSignal;
  runtime?: Runtime;
  timeoutMs?: number;
}

/** One log line with the labels of its stream. */
export interface LogLine {
  /** Nanoseconds since the epoch, as Loki gives it (a string: it does not fit a double). */
  timestampNs: string;
  line: string;
  stream: Record<string, string>;
}

async function call<T>(
  access: LokiAccess,
  path: string,
  query: Record<string, string | undefined>,
): Promise<T> {
  const response = await monitoringRequest({
    endpoint: access.endpoint,
    path,
    query,
    signal: access.signal,
    ...(access.runtime ? { runtime: access.runtime } : {}),
    ...(access.timeoutMs !== undefined ? { timeoutMs: access.timeoutMs } : {}),
  });
  let parsed: { status?: string; data?: T; error?: string };
  try {
    parsed = JSON.parse(response.body) as typeof parsed;
  } catch {
    throw new MonitoringError(
      `Loki at ${response.url} did not answer with JSON (is LOKI_ENDPOINT/LOKI_PATH the API's address?)`,
      'http',
    );
  }
  if (parsed.status !== 'success' || parsed.data === undefined)
    throw new MonitoringError(`Loki answered with an error: ${parsed.error ?? 'no data'}`, 'api');
  return parsed.data;
}

function nanoseconds(date: Date): string {
  return `${BigInt(date.getTime()) * 1_000_000n}`;
}

export async function lokiLabels(access: LokiAccess, options: { start: Date; end: Date }): Promise<string[]> {
  return await call<string[]>(access, '/loki/api/v1/labels', {
    start: nanoseconds(options.start),
    end: nanoseconds(options.end),
  });
}

export async function lokiLabelValues(
  access: LokiAccess,
  options: { label: string; start: Date; end: Date },
): Promise<string[]> {
  return await call<string[]>(access, `/loki/api/v1/label/${encodeURIComponent(options.label)}/values`, {
    start: nanoseconds(options.start),
    end: nanoseconds(options.end),
  });
}

/** A LogQL log query over the range, newest lines first, at most `limit` of them. */
export async function lokiQueryRange(
  access: LokiAccess,
  options: { query: string; start: Date; end: Date; limit: number },
): Promise<{ lines: LogLine[]; limitReached: boolean }> {
  const data = await call<{
    resultType: string;
    result: Array<{
      stream?: Record<string, string>;
      metric?: Record<string, string>;
      values: Array<[string, string]>;
    }>;
  }>(access, '/loki/api/v1/query_range', {
    query: options.query,
    start: nanoseconds(options.start),
    end: nanoseconds(options.end),
    limit: String(options.limit),
    direction: 'backward',
  });
  if (data.resultType !== 'streams')
    throw new MonitoringError(
      `Loki answered a ${data.resultType} (a metric query): give a log query such as {job="nginx"} |= "error"`,
      'api',
    );
  const lines: LogLine[] = [];
  for (const stream of data.result)
    for (const [timestampNs, line] of stream.values)
      lines.push({ timestampNs, line, stream: stream.stream ?? {} });
  lines.sort((a, b) =>
    BigInt(b.timestampNs) > BigInt(a.timestampNs)
      ? 1
      : BigInt(b.timestampNs) < BigInt(a.timestampNs)
        ? -1
        : 0,
  );
  return { lines: lines.slice(0, options.limit), limitReached: lines.length >= options.limit };
}

/** `2026-12-01T17:01:02.123Z` from Loki's nanoseconds. */
export function lokiTime(timestampNs: string): string {
  return new Date(Number(BigInt(timestampNs) / 1_000_000n)).toISOString();
}
