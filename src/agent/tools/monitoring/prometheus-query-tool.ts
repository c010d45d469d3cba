import { z } from 'zod';
import { instantQuery, rangeQueryData, type PromSeries } from '../../../monitoring/prometheus-client.js';
import { fullResultText, summariseQuery } from '../../../monitoring/prometheus-summary.js';
import { chartOf } from '../../../monitoring/series-chart.js';
import {
  chooseStep,
  formatDuration,
  isoSeconds,
  parseDuration,
  parseTimePoint,
  resolveTimeRange,
  TIME_RANGE_FORMS,
} from '../../../monitoring/time-range.js';
import { defineTool } from '../tool-contract.js';
import { keepFullResult, needsEndpoint, runMonitoringCall, type MonitoringDraft } from './monitoring-call.js';
import { descriptionFile } from '../description-file.js';

const DEFAULT_RANGE_MS = 3_600_000;
/** Prometheus refuses more than 11,000 points per series. */
const MAX_POINTS = 11_000;

const inputSchema = z.object({
  query: z.string().min(1).describe('The PromQL expression'),
  range: z
    .string()
    .optional()
    .describe(
      'For a range query: "last 30m", "since 02:00", "6h", "today". Leave out (and start) for an instant query',
    ),
  start: z
    .string()
    .optional()
    .describe('Range start instead of range: now-2h, 14:30, RFC 3339 or Unix seconds'),
  end: z.string().optional().describe('Range end (default now)'),
  step: z.string().optional().describe('Range step ("30s", "5m"); chosen from the range when left out'),
  time: z.string().optional().describe('For an instant query: evaluate at this time (default now)'),
  description: z.string().default('').describe('Why, in a few words, for the user'),
});

type Input = z.output<typeof inputSchema>;

export const prometheusQueryTool = defineTool({
  name: 'PrometheusQuery',
  summary: 'Runs a PromQL instant or range query and summarises each series (min/max/mean/last)',
  description: descriptionFile(new URL('./prometheus-query.md', import.meta.url)),
  readOnly: true,
  inputSchema,
  unavailable: needsEndpoint('prometheus'),
  title: (input) =>
    `PromQL ${input.query}${input.range ? ` (${input.range})` : input.start ? ` (from ${input.start})` : ''}`,
  execute: (input, context, options) =>
    runMonitoringCall({
      tool: 'PrometheusQuery',
      service: 'prometheus',
      input,
      schema: inputSchema,
      readOnly: true,
      context,
      signal: options.signal,
      act: async (args, access) => {
        const now = new Date();
        if (args.range === undefined && args.start === undefined) {
          const at = args.time ? parseTimePoint(args.time, now) : now;
          if (!at) return refused(`time "${args.time}" is not a time: use ${TIME_RANGE_FORMS}`);
          const { data, warnings } = await instantQuery(access, {
            query: args.query,
            ...(args.time ? { time: at } : {}),
          });
          const summary = summariseQuery(data);
          return describeResult({
            args,
            heading: `Instant query at ${isoSeconds(at)}`,
            summary,
            warnings,
            full:
              data.resultType === 'vector' && summary.cutSeries > 0
                ? keepFullResult(context, { kind: 'prometheus', text: fullResultText(data) })
                : undefined,
          });
        }
        const range = resolveTimeRange({
          range: args.range,
          start: args.start,
          end: args.end,
          now,
          defaultMs: DEFAULT_RANGE_MS,
        });
        if ('error' in range) return refused(range.error);
        const spanMs = range.end.getTime() - range.start.getTime();
        let stepMs = chooseStep(spanMs);
        if (args.step !== undefined) {
          const given = parseDuration(args.step);
          if (given === undefined)
            return refused(`step "${args.step}" is not a duration such as 30s, 5m, 1h`);
          if (spanMs / given > MAX_POINTS)
            return refused(
              `step ${args.step} gives more than ${MAX_POINTS} points over ${formatDuration(spanMs)}: use a step of at least ${formatDuration(chooseStep(spanMs, MAX_POINTS))}`,
            );
          stepMs = given;
        }
        const { data, warnings } = await rangeQueryData(access, {
          query: args.query,
          start: range.start,
          end: range.end,
          stepMs,
        });
        const summary = summariseQuery(data);
        const full = keepFullResult(context, { kind: 'prometheus', text: fullResultText(data) });
        const draft = describeResult({
          args,
          heading: `Range query ${range.text}, step ${formatDuration(stepMs)}`,
          summary,
          warnings,
          full,
        });
        return data.resultType === 'matrix'
          ? {
              ...draft,
              chart: chartOf({
                title: `${args.query}  (${range.text}, step ${formatDuration(stepMs)})`,
                start: range.start,
                end: range.end,
                series: data.result as PromSeries[],
              }),
            }
          : draft;
      },
    }),
});

function refused(message: string): MonitoringDraft {
  return { blocks: [`${message}. Nothing was queried.`], display: message, isError: true };
}

function describeResult(options: {
  args: Input;
  heading: string;
  summary: ReturnType<typeof summariseQuery>;
  warnings: string[];
  full: string | undefined;
}): MonitoringDraft {
  const { summary } = options;
  const count = `${summary.seriesCount} series${summary.cutSeries > 0 ? `, the first ${summary.seriesCount - summary.cutSeries} shown (${summary.cutSeries} cut)` : ''}`;
  return {
    blocks: [
      `Query: ${options.args.query}`,
      `${options.heading}: ${count}.`,
      { source: 'prometheus-result', text: summary.lines.join('\n') },
      ...(options.warnings.length > 0
        ? ['Prometheus warned:', { source: 'prometheus-warnings', text: options.warnings.join('\n') }]
        : []),
      ...(options.full ? [options.full] : []),
    ],
    display: [`${options.heading}: ${count}`, ...summary.lines].join('\n'),
    isError: false,
  };
}
