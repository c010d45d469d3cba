import type { Runtime } from '../runtime/contract.js';
import type { MonitoringEndpoint } from './monitoring-endpoints.js';
import { MonitoringError, monitoringRequest } from './monitoring-http.js';

/** `[unix seconds, "value"]` as Prometheus sends a sample. */
export type PromSample = [number, string];

export interface PromSeries {
  metric: Record<string, string>;
  /** Range queries. */
  values?: PromSample[];
  /** Instant queries. */
  value?: PromSample;
}

export type PromQueryData =
  | { resultType: 'matrix' | 'vector'; result: PromSeries[] }
  | { resultType: 'scalar' | 'string'; result: PromSample };

export interface PromMetricInfo {
  name: string;
  type?: string;
  help?: string;
  unit?: string;
}

/** How every call reaches the server. */
export interface PrometheusAccess {
  endpoint: MonitoringEndpoint;
  signal: AbortSignal;
  runtime?: Runtime;
  timeoutMs?: number;
}

/** The `data` of a Prometheus API answer; its `warnings` too. Throws the server's error verbatim. */
async function call<T>(
  access: PrometheusAccess,
  path: string,
  query: Record<string, string | readonly string[] | undefined>,
): Promise<{ data: T; warnings: string[] }> {
  const response = await monitoringRequest({
    endpoint: access.endpoint,
    path,
    query,
    signal: access.signal,
    ...(access.runtime ? { runtime: access.runtime } : {}),
    ...(access.timeoutMs !== undefined ? { timeoutMs: access.timeoutMs } : {}),
  });
  let parsed: { status?: string; data?: T; error?: string; errorType?: string; warnings?: string[] };
  try {
    parsed = JSON.parse(response.body) as typeof parsed;
  } catch {
    throw new MonitoringError(
      `${access.endpoint.title} at ${response.url} did not answer with JSON (is ${access.endpoint.envPrefix}_ENDPOINT/_PATH the API's address?)`,
      'http',
    );
  }
  if (parsed.status !== 'success' || parsed.data === undefined)
    throw new MonitoringError(
      `${access.endpoint.title} answered with an error: ${parsed.errorType ? `${parsed.errorType}: ` : ''}${parsed.error ?? 'no data'}`,
      'api',
    );
  return { data: parsed.data, warnings: parsed.warnings ?? [] };
}

/** Metric names matching `pattern` (a regular expression, case-insensitive; all when absent), with metadata. */
export async function findMetrics(
  access: PrometheusAccess,
  options: { pattern?: string | undefined },
): Promise<{ metrics: PromMetricInfo[]; total: number }> {
  let matcher: RegExp | undefined;
  if (options.pattern) {
    try {
      matcher = new RegExp(options.pattern, 'i');
    } catch (error) {
      throw new MonitoringError(
        `pattern "${options.pattern}" is not a regular expression: ${(error as Error).message}`,
        'api',
      );
    }
  }
  const [names, metadata] = await Promise.all([
    call<string[]>(access, '/api/v1/label/__name__/values', {}),
    call<Record<string, Array<{ type?: string; help?: string; unit?: string }>>>(
      access,
      '/api/v1/metadata',
      {},
    ).catch((error: unknown) => {
      // Some Prometheus-compatible servers have no metadata API: names alone still help.
      if (error instanceof MonitoringError && (error.kind === 'http' || error.kind === 'api'))
        return {
          data: {} as Record<string, Array<{ type?: string; help?: string; unit?: string }>>,
          warnings: [],
        };
      throw error;
    }),
  ]);
  const matching = names.data.filter((name) => !matcher || matcher.test(name)).sort();
  return {
    total: matching.length,
    metrics: matching.map((name) => {
      const info = metadata.data[name]?.[0];
      return {
        name,
        ...(info?.type ? { type: info.type } : {}),
        ...(info?.help ? { help: info.help } : {}),
        ...(info?.unit ? { unit: info.unit } : {}),
      };
    }),
  };
}

export async function labelNames(
  access: PrometheusAccess,
  options: { match?: readonly string[]; start?: Date; end?: Date },
): Promise<string[]> {
  return (await call<string[]>(access, '/api/v1/labels', rangeQuery(options))).data;
}

export async function labelValues(
  access: PrometheusAccess,
  options: { label: string; match?: readonly string[]; start?: Date; end?: Date },
): Promise<string[]> {
  return (
    await call<string[]>(
      access,
      `/api/v1/label/${encodeURIComponent(options.label)}/values`,
      rangeQuery(options),
    )
  ).data;
}

export async function findSeries(
  access: PrometheusAccess,
  options: { match: readonly string[]; start?: Date; end?: Date },
): Promise<Array<Record<string, string>>> {
  return (await call<Array<Record<string, string>>>(access, '/api/v1/series', rangeQuery(options))).data;
}

function rangeQuery(options: { match?: readonly string[]; start?: Date; end?: Date }) {
  return {
    ...(options.match && options.match.length > 0 ? { 'match[]': options.match } : {}),
    ...(options.start ? { start: unixSeconds(options.start) } : {}),
    ...(options.end ? { end: unixSeconds(options.end) } : {}),
  };
}

export async function instantQuery(
  access: PrometheusAccess,
  options: { query: string; time?: Date },
): Promise<{ data: PromQueryData; warnings: string[] }> {
  return await call<PromQueryData>(access, '/api/v1/query', {
    query: options.query,
    ...(options.time ? { time: unixSeconds(options.time) } : {}),
  });
}

export async function rangeQueryData(
  access: PrometheusAccess,
  options: { query: string; start: Date; end: Date; stepMs: number },
): Promise<{ data: PromQueryData; warnings: string[] }> {
  return await call<PromQueryData>(access, '/api/v1/query_range', {
    query: options.query,
    start: unixSeconds(options.start),
    end: unixSeconds(options.end),
    step: String(options.stepMs / 1000),
  });
}

/** Alerting rules' alerts as Prometheus holds them (pending and firing). */
export async function prometheusAlerts(access: PrometheusAccess): Promise<
  Array<{
    labels: Record<string, string>;
    annotations: Record<string, string>;
    state: string;
    activeAt?: string;
    value?: string;
  }>
> {
  return (
    await call<{
      alerts: Array<{
        labels: Record<string, string>;
        annotations: Record<string, string>;
        state: string;
        activeAt?: string;
        value?: string;
      }>;
    }>(access, '/api/v1/alerts', {})
  ).data.alerts;
}

function unixSeconds(date: Date): string {
  return String(date.getTime() / 1000);
}
