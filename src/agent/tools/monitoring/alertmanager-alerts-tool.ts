import { z } from 'zod';
import {
  listAlerts,
  listSilences,
  formatMatcher,
  parseMatcher,
} from '../../../monitoring/alertmanager-client.js';
import { describeAlerts, describeSilences, pendingAlerts } from '../../../monitoring/alert-text.js';
import { defineTool } from '../tool-contract.js';
import { needsEndpoint, runMonitoringCall, type MonitoringDraft } from './monitoring-call.js';
import { monitoringEndpoint } from '../../../monitoring/monitoring-endpoints.js';
import { MonitoringError } from '../../../monitoring/monitoring-http.js';
import { descriptionFile } from '../description-file.js';

const inputSchema = z.object({
  show: z.enum(['alerts', 'silences']).default('alerts').describe('alerts (default) or silences'),
  filter: z
    .array(z.string().min(1))
    .default([])
    .describe('Matchers such as alertname="X" or severity=~"crit.*"'),
  description: z.string().default('').describe('Why, in a few words, for the user'),
});

export const alertmanagerAlertsTool = defineTool({
  name: 'AlertmanagerAlerts',
  summary: "Lists the Alertmanager's alerts (and Prometheus' pending ones) or its silences",
  description: descriptionFile(new URL('./alertmanager-alerts.md', import.meta.url)),
  readOnly: true,
  inputSchema,
  unavailable: needsEndpoint('alertmanager'),
  title: (input) => `Alertmanager ${input.show}${input.filter.length ? ` ${input.filter.join(' ')}` : ''}`,
  execute: (input, context, options) =>
    runMonitoringCall({
      tool: 'AlertmanagerAlerts',
      service: 'alertmanager',
      input,
      schema: inputSchema,
      readOnly: true,
      context,
      signal: options.signal,
      act: async (args, access): Promise<MonitoringDraft> => {
        const bad = args.filter.find((text) => !parseMatcher(text));
        if (bad !== undefined)
          return {
            blocks: [
              `filter ${JSON.stringify(bad)} is not a matcher such as alertname="X", severity!="info" or job=~"api.*". Nothing was read.`,
            ],
            display: `bad matcher ${bad}`,
            isError: true,
          };
        const filter = args.filter.map((text) => formatMatcher(parseMatcher(text)!));
        const now = new Date();
        if (args.show === 'silences') {
          const silences = await listSilences(access, { filter });
          const text = describeSilences(silences, now);
          return {
            blocks: [
              `${silences.length} silence${silences.length === 1 ? '' : 's'}:`,
              { source: 'alertmanager-silences', text: text || '(none)' },
            ],
            display: `${silences.length} silences\n${text}`,
            isError: false,
          };
        }
        const alerts = await listAlerts(access, { filter });
        const text = describeAlerts(alerts, now);
        const blocks: MonitoringDraft['blocks'] = [
          `${alerts.length} alert${alerts.length === 1 ? '' : 's'} in the Alertmanager:`,
          { source: 'alertmanager-alerts', text: text || '(none)' },
        ];
        let pendingText = '';
        const prometheus = (() => {
          try {
            return monitoringEndpoint('prometheus', context.env ?? {});
          } catch {
            return undefined;
          }
        })();
        if (prometheus) {
          try {
            const pending = await pendingAlerts(
              {
                endpoint: prometheus,
                signal: access.signal,
                ...(prometheus.reach === 'target' ? { runtime: access.targetRuntime } : {}),
              },
              filter.map((matcher) => parseMatcher(matcher)!),
              now,
            );
            pendingText = pending.text;
            blocks.push(
              `${pending.count} pending alert${pending.count === 1 ? '' : 's'} in Prometheus (condition holds, "for" not yet passed):`,
              {
                source: 'prometheus-alerts',
                text: pending.text || '(none)',
              },
            );
          } catch (error) {
            if (!(error instanceof MonitoringError)) throw error;
            blocks.push('Pending alerts could not be read from Prometheus:', {
              source: 'prometheus-error',
              text: error.message,
            });
          }
        }
        return {
          blocks,
          display: [
            `${alerts.length} alerts`,
            text,
            ...(pendingText ? ['pending in Prometheus:', pendingText] : []),
          ]
            .filter(Boolean)
            .join('\n'),
          isError: false,
        };
      },
    }),
});
