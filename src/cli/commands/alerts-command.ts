import { Command } from 'commander';
import { ConfigError } from '../../errors/opsmate-error.js';
import { alertState, matchesAll, relativeTime } from '../../monitoring/alert-text.js';
import {
  formatMatcher,
  listAlerts,
  listSilences,
  parseMatcher,
} from '../../monitoring/alertmanager-client.js';
import { monitoringEndpoint } from '../../monitoring/monitoring-endpoints.js';
import { prometheusAlerts } from '../../monitoring/prometheus-client.js';
import type { CliContext } from '../cli-context.js';
import { parseOutputFormat, writeJson } from '../output-format.js';
import { renderTable } from '../render/table.js';
import {
  addMonitoringOptions,
  requestWithSignals,
  requireEndpoint,
  timeoutMs,
} from './monitoring-command-support.js';

/** `opsmate alerts`: the Alertmanager's alerts (and Prometheus' pending ones) or its silences, as a table. */
export function alertsCommand(context: CliContext): Command {
  const command = addMonitoringOptions(
    new Command('alerts')
      .summary(
        "list the alerts of ALERTMANAGER_ENDPOINT (and PROMETHEUS_ENDPOINT's pending ones), or --silences",
      )
      .argument('[MATCHER...]', 'only alerts these select: alertname="X", severity=~"crit.*"')
      .option('--silences', 'list the silences instead'),
  ).action(
    async (filterTexts: string[], options: { output?: string; timeout?: string; silences?: boolean }) => {
      const format = parseOutputFormat(options.output);
      const endpoint = requireEndpoint(context, 'alertmanager');
      const matchers = filterTexts.map((text) => {
        const matcher = parseMatcher(text);
        if (!matcher)
          throw new ConfigError(`${JSON.stringify(text)} is not a matcher`, {
            hint: 'write matchers as alertname="X", severity!="info" or job=~"api.*"',
          });
        return matcher;
      });
      const filter = matchers.map(formatMatcher);
      const access = (signal: AbortSignal) => ({ endpoint, signal, timeoutMs: timeoutMs(options.timeout) });
      const now = new Date();
      const isTerminal = Boolean(context.stdout.isTTY);
      if (options.silences) {
        const silences = await requestWithSignals(endpoint, (signal) =>
          listSilences(access(signal), { filter }),
        );
        if (format === 'json') return writeJson(context.stdout, silences);
        if (silences.length === 0) return void context.stdout.write('No silences.\n');
        context.stdout.write(
          await renderTable({
            title: 'Silences',
            head: ['ID', 'State', 'Matchers', 'Ends', 'By', 'Comment'],
            rows: silences.map((silence) => [
              silence.id,
              silence.status.state,
              silence.matchers.map(formatMatcher).join(', '),
              `${silence.endsAt} (${relativeTime(silence.endsAt, now)})`,
              silence.createdBy,
              silence.comment,
            ]),
            isTerminal,
          }),
        );
        return;
      }
      const alerts = await requestWithSignals(endpoint, (signal) => listAlerts(access(signal), { filter }));
      // Pending alerts live in Prometheus only; asked when it is configured, a failure is a warning.
      const prometheus = monitoringEndpoint('prometheus', context.config.env);
      let pending: Awaited<ReturnType<typeof prometheusAlerts>> = [];
      if (prometheus && prometheus.reach === 'opsmate') {
        try {
          pending = (
            await requestWithSignals(prometheus, (signal) =>
              prometheusAlerts({ endpoint: prometheus, signal, timeoutMs: timeoutMs(options.timeout) }),
            )
          ).filter((alert) => alert.state === 'pending' && matchesAll(alert.labels, matchers));
        } catch (error) {
          context.logger.warn(`pending alerts not read from Prometheus: ${(error as Error).message}`);
        }
      }
      if (format === 'json')
        return writeJson(context.stdout, {
          alerts: alerts.map((alert) => ({ ...alert, state: alertState(alert) })),
          pending,
        });
      if (alerts.length === 0 && pending.length === 0) return void context.stdout.write('No alerts.\n');
      const labels = (all: Record<string, string>) =>
        Object.entries(all)
          .filter(([name]) => name !== 'alertname')
          .map(([name, value]) => `${name}=${value}`)
          .join(' ');
      context.stdout.write(
        await renderTable({
          title: 'Alerts',
          head: ['Alert', 'State', 'Since', 'Labels', 'Summary'],
          rows: [
            ...alerts.map((alert) => [
              alert.labels.alertname ?? '',
              alertState(alert),
              relativeTime(alert.startsAt, now),
              labels(alert.labels),
              alert.annotations.summary ?? alert.annotations.description ?? '',
            ]),
            ...pending.map((alert) => [
              alert.labels.alertname ?? '',
              'pending',
              alert.activeAt ? relativeTime(alert.activeAt, now) : '',
              labels(alert.labels),
              alert.annotations.summary ?? alert.annotations.description ?? '',
            ]),
          ],
          isTerminal,
        }),
      );
    },
  );
  return command;
}
