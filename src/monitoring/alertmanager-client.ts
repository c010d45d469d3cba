import type { Runtime } from '../runtime/contract.js';
import type { MonitoringEndpoint } from './monitoring-endpoints.js';
import { MonitoringError, monitoringRequest } from './monitoring-http.js';

export interface AlertmanagerAccess {
  endpoint: MonitoringEndpoint;
  signal: AbortSignal;
  runtime?: Runtime;
  timeoutMs?: number;
}

/** One alert as Alertmanager's v2 API lists it. */
export interface AmAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt?: string;
  updatedAt?: string;
  status: {
    state: 'active' | 'suppressed' | 'unprocessed' | string;
    silencedBy: string[];
    inhibitedBy: string[];
  };
  generatorURL?: string;
  fingerprint?: string;
}

export interface AmMatcher {
  name: string;
  value: string;
  isRegex: boolean;
  isEqual?: boolean;
}

export interface AmSilence {
  id: string;
  matchers: AmMatcher[];
  startsAt: string;
  endsAt: string;
  createdBy: string;
  comment: string;
  status: { state: 'active' | 'pending' | 'expired' | string };
}

async function json<T>(
  access: AlertmanagerAccess,
  options: {
    path: string;
    method?: 'GET' | 'POST' | 'DELETE';
    query?: Record<string, string | readonly string[] | undefined>;
    body?: unknown;
  },
): Promise<T> {
  const response = await monitoringRequest({
    endpoint: access.endpoint,
    path: options.path,
    signal: access.signal,
    ...(options.method ? { method: options.method } : {}),
    ...(options.query ? { query: options.query } : {}),
    ...(options.body !== undefined ? { json: options.body } : {}),
    ...(access.runtime ? { runtime: access.runtime } : {}),
    ...(access.timeoutMs !== undefined ? { timeoutMs: access.timeoutMs } : {}),
  });
  if (response.body.trim() === '') return undefined as T;
  try {
    return JSON.parse(response.body) as T;
  } catch {
    throw new MonitoringError(
      `${access.endpoint.title} at ${response.url} did not answer with JSON (is ALERTMANAGER_ENDPOINT the Alertmanager's address?)`,
      'http',
    );
  }
}

/** Alerts, newest first; `filter` takes matchers as Alertmanager does (`alertname="X"`, `severity=~"crit.*"`). */
export async function listAlerts(
  access: AlertmanagerAccess,
  options: { filter?: readonly string[]; silenced?: boolean } = {},
): Promise<AmAlert[]> {
  const alerts = await json<AmAlert[]>(access, {
    path: '/api/v2/alerts',
    query: {
      silenced: String(options.silenced ?? true),
      inhibited: 'true',
      ...(options.filter && options.filter.length > 0 ? { filter: options.filter } : {}),
    },
  });
  return [...(alerts ?? [])].sort((a, b) => b.startsAt.localeCompare(a.startsAt));
}

export async function listSilences(
  access: AlertmanagerAccess,
  options: { filter?: readonly string[] } = {},
): Promise<AmSilence[]> {
  const silences = await json<AmSilence[]>(access, {
    path: '/api/v2/silences',
    ...(options.filter && options.filter.length > 0 ? { query: { filter: options.filter } } : {}),
  });
  return silences ?? [];
}

export async function createSilence(
  access: AlertmanagerAccess,
  silence: { matchers: AmMatcher[]; startsAt: Date; endsAt: Date; createdBy: string; comment: string },
): Promise<string> {
  const created = await json<{ silenceID?: string }>(access, {
    path: '/api/v2/silences',
    method: 'POST',
    body: {
      matchers: silence.matchers.map((matcher) => ({ isEqual: true, ...matcher })),
      startsAt: silence.startsAt.toISOString(),
      endsAt: silence.endsAt.toISOString(),
      createdBy: silence.createdBy,
      comment: silence.comment,
    },
  });
  if (!created?.silenceID)
    throw new MonitoringError('Alertmanager did not say which silence it created', 'http');
  return created.silenceID;
}

export async function expireSilence(access: AlertmanagerAccess, id: string): Promise<void> {
  await json<unknown>(access, { path: `/api/v2/silence/${encodeURIComponent(id)}`, method: 'DELETE' });
}

/**
 * A matcher as amtool and the Alertmanager UI write it: `name="value"`, `name!=value`,
 * `name=~"re.*"`, `name!~re`. Undefined when it is not one.
 */
export function parseMatcher(text: string): AmMatcher | undefined {
  const match = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*(.*?)\s*$/.exec(text);
  if (!match) return undefined;
  let value = match[3]!;
  if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) {
    try {
      value = JSON.parse(value) as string;
    } catch {
      return undefined;
    }
  }
  const operator = match[2]!;
  return { name: match[1]!, value, isRegex: operator.includes('~'), isEqual: !operator.startsWith('!') };
}

export function formatMatcher(matcher: AmMatcher): string {
  const negated = matcher.isEqual === false;
  const operator = matcher.isRegex ? (negated ? '!~' : '=~') : negated ? '!=' : '=';
  return `${matcher.name}${operator}${JSON.stringify(matcher.value)}`;
}
