import type { AmAlert, AmMatcher, AmSilence } from './alertmanager-client.js';
import { formatMatcher } from './alertmanager-client.js';
import { prometheusAlerts, type PrometheusAccess } from './prometheus-client.js';
import { formatDuration } from './time-range.js';

/** Alerts described at most; the rest are counted. */
export const MAX_ALERTS = 50;

/** `5m ago` / `in 2h` for an RFC 3339 time. */
export function relativeTime(iso: string, now: Date): string {
  const ms = new Date(iso).getTime() - now.getTime();
  if (!Number.isFinite(ms)) return iso;
  const words = formatDuration(Math.abs(Math.round(ms / 1000) * 1000));
  return ms <= 0 ? `${words} ago` : `in ${words}`;
}

function labelText(labels: Record<string, string>): string {
  return Object.entries(labels)
    .filter(([name]) => name !== 'alertname')
    .map(([name, value]) => `${name}=${JSON.stringify(value)}`)
    .join(', ');
}

/** `firing`, `silenced by ID`, `inhibited`, `unprocessed`. */
export function alertState(alert: AmAlert): string {
  if (alert.status.silencedBy.length > 0) return `silenced by ${alert.status.silencedBy.join(', ')}`;
  if (alert.status.inhibitedBy.length > 0) return `inhibited by ${alert.status.inhibitedBy.join(', ')}`;
  return alert.status.state === 'active' ? 'firing' : alert.status.state;
}

/** One paragraph per alert: name, state, since when, labels, annotations. */
export function describeAlerts(alerts: readonly AmAlert[], now: Date): string {
  const lines: string[] = [];
  for (const alert of alerts.slice(0, MAX_ALERTS)) {
    lines.push(
      `${alert.labels.alertname ?? '(no alertname)'} [${alertState(alert)}] since ${alert.startsAt} (${relativeTime(alert.startsAt, now)})`,
      `  labels: ${labelText(alert.labels) || '(none)'}`,
      ...Object.entries(alert.annotations).map(([name, value]) => `  ${name}: ${value}`),
    );
  }
  if (alerts.length > MAX_ALERTS)
    lines.push(`... ${alerts.length - MAX_ALERTS} more alerts not shown (filter them)`);
  return lines.join('\n');
}

export function describeSilences(silences: readonly AmSilence[], now: Date): string {
  return silences
    .map((silence) =>
      [
        `${silence.id} [${silence.status.state}] ${silence.matchers.map(formatMatcher).join(', ')}`,
        `  ${silence.status.state === 'expired' ? 'ended' : 'until'} ${silence.endsAt} (${relativeTime(silence.endsAt, now)}), by ${silence.createdBy}: ${silence.comment}`,
      ].join('\n'),
    )
    .join('\n');
}

/** Whether `labels` satisfy every matcher. */
export function matchesAll(labels: Record<string, string>, matchers: readonly AmMatcher[]): boolean {
  return matchers.every((matcher) => {
    const value = labels[matcher.name] ?? '';
    const hit = matcher.isRegex ? new RegExp(`^(?:${matcher.value})$`).test(value) : value === matcher.value;
    return matcher.isEqual === false ? !hit : hit;
  });
}

/** Prometheus' pending alerts (those that would fire once their `for:` passes), as text. */
export async function pendingAlerts(
  access: PrometheusAccess,
  filter: readonly AmMatcher[],
  now: Date,
): Promise<{
  count: number;
  text: string;
  alerts: Array<{ labels: Record<string, string>; annotations: Record<string, string>; activeAt?: string }>;
}> {
  const pending = (await prometheusAlerts(access)).filter(
    (alert) => alert.state === 'pending' && matchesAll(alert.labels, filter),
  );
  const text = pending
    .slice(0, MAX_ALERTS)
    .map((alert) =>
      [
        `${alert.labels.alertname ?? '(no alertname)'} [pending]${alert.activeAt ? ` since ${alert.activeAt} (${relativeTime(alert.activeAt, now)})` : ''}`,
        `  labels: ${labelText(alert.labels) || '(none)'}`,
        ...Object.entries(alert.annotations).map(([name, value]) => `  ${name}: ${value}`),
      ].join('\n'),
    )
    .join('\n');
  return { count: pending.length, text, alerts: pending };
}
