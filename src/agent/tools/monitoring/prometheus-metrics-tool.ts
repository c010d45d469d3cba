import { z } from 'zod';
import { findMetrics, findSeries, labelNames, labelValues } from '../../../monitoring/prometheus-client.js';
import { seriesName } from '../../../monitoring/prometheus-summary.js';
import { resolveTimeRange } from '../../../monitoring/time-range.js';
import { defineTool } from '../tool-contract.js';
import { keepFullResult, needsEndpoint, runMonitoringCall, type MonitoringDraft } from './monitoring-call.js';
import { descriptionFile } from '../description-file.js';

/** Names, values or series listed for the model at most; the rest go to the spill file. */
export const MAX_LISTED = 200;

const inputSchema = z.object({
  kind: z.enum(['metrics', 'labels', 'label_values', 'series']).describe('What to list'),
  pattern: z.string().optional().describe('kind metrics: a regular expression the metric names must match'),
  label: z.string().optional().describe('kind label_values: the label whose values to list'),
  match: z
    .array(z.string().min(1))
    .default([])
    .describe('Series selectors, e.g. [\'{job="node"}\']; required for kind series'),
  range: z.string().optional().describe('Only series present in this range ("last 1h")'),
  description: z.string().default('').describe('Why, in a few words, for the user'),
});

export const prometheusMetricsTool = defineTool({
  name: 'PrometheusMetrics',
  summary: 'Finds Prometheus metric names (with type, help, unit), label names and values, and series',
  description: descriptionFile(new URL('./prometheus-metrics.md', import.meta.url)),
  readOnly: true,
  inputSchema,
  unavailable: needsEndpoint('prometheus'),
  title: (input) =>
    input.kind === 'metrics'
      ? `Prometheus metrics${input.pattern ? ` matching ${input.pattern}` : ''}`
      : input.kind === 'label_values'
        ? `Prometheus values of ${input.label ?? '?'}${input.match.length ? ` in ${input.match.join(' ')}` : ''}`
        : `Prometheus ${input.kind}${input.match.length ? ` of ${input.match.join(' ')}` : ''}`,
  execute: (input, context, options) =>
    runMonitoringCall({
      tool: 'PrometheusMetrics',
      service: 'prometheus',
      input,
      schema: inputSchema,
      readOnly: true,
      context,
      signal: options.signal,
      act: async (args, access): Promise<MonitoringDraft> => {
        let when: { start?: Date; end?: Date } = {};
        let rangeText = '';
        if (args.range) {
          const range = resolveTimeRange({ range: args.range, now: new Date(), defaultMs: 3_600_000 });
          if ('error' in range) return refused(range.error);
          when = { start: range.start, end: range.end };
          rangeText = ` in ${range.text}`;
        }
        let heading: string;
        let lines: string[];
        if (args.kind === 'metrics') {
          const found = await findMetrics(access, { pattern: args.pattern });
          heading = `${found.total} metric name${found.total === 1 ? '' : 's'}${args.pattern ? ` match /${args.pattern}/i` : ''}`;
          lines = found.metrics.map((metric) =>
            [
              metric.name,
              metric.type ? `(${metric.type}${metric.unit ? `, ${metric.unit}` : ''})` : '(no metadata)',
              metric.help ?? '',
            ]
              .filter(Boolean)
              .join(' '),
          );
        } else if (args.kind === 'labels') {
          lines = await labelNames(access, { match: args.match, ...when });
          heading = `${lines.length} label name${lines.length === 1 ? '' : 's'}${args.match.length ? ` of ${args.match.join(' ')}` : ''}${rangeText}`;
        } else if (args.kind === 'label_values') {
          if (!args.label) return refused('kind label_values needs `label`, the label whose values to list');
          lines = await labelValues(access, { label: args.label, match: args.match, ...when });
          heading = `${lines.length} value${lines.length === 1 ? '' : 's'} of label ${args.label}${args.match.length ? ` in ${args.match.join(' ')}` : ''}${rangeText}`;
        } else {
          if (args.match.length === 0)
            return refused('kind series needs `match`, one or more series selectors such as {job="node"}');
          lines = (await findSeries(access, { match: args.match, ...when })).map(seriesName);
          heading = `${lines.length} series match ${args.match.join(' ')}${rangeText}`;
        }
        const shown = lines.slice(0, MAX_LISTED);
        const cut = lines.length - shown.length;
        return {
          blocks: [
            `${heading}${cut > 0 ? `; the first ${MAX_LISTED} shown, ${cut} cut (narrow the pattern or selector)` : ''}:`,
            { source: 'prometheus-metadata', text: shown.join('\n') || '(none)' },
            ...(cut > 0
              ? [keepFullResult(context, { kind: 'prometheus', text: `${lines.join('\n')}\n` })]
              : []),
          ],
          display: `${heading}${cut > 0 ? ` (${MAX_LISTED} shown)` : ''}`,
          isError: false,
        };
      },
    }),
});

function refused(message: string): MonitoringDraft {
  return { blocks: [`${message}. Nothing was queried.`], display: message, isError: true };
}
