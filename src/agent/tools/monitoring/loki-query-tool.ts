import { z } from 'zod';
import {
  DEFAULT_LOG_LINES,
  lokiLabels,
  lokiLabelValues,
  lokiQueryRange,
  lokiTime,
  MAX_LOG_LINES,
} from '../../../monitoring/loki-client.js';
import { resolveTimeRange } from '../../../monitoring/time-range.js';
import { defineTool } from '../tool-contract.js';
import { needsEndpoint, runMonitoringCall, type MonitoringDraft } from './monitoring-call.js';
import { descriptionFile } from '../description-file.js';

const DEFAULT_RANGE_MS = 3_600_000;

const inputSchema = z.object({
  kind: z
    .enum(['logs', 'labels', 'label_values'])
    .default('logs')
    .describe('logs (default), labels or label_values'),
  query: z.string().optional().describe('kind logs: the LogQL log query, e.g. {job="nginx"} |= "error"'),
  label: z.string().optional().describe('kind label_values: the label whose values to list'),
  range: z.string().optional().describe('"last 1h" (the default), "since 02:00", "30m"'),
  start: z.string().optional().describe('Range start instead of range: now-2h, 14:30, RFC 3339'),
  end: z.string().optional().describe('Range end (default now)'),
  limit: z
    .int()
    .min(1)
    .max(MAX_LOG_LINES)
    .default(DEFAULT_LOG_LINES)
    .describe(`Lines at most (default ${DEFAULT_LOG_LINES}, at most ${MAX_LOG_LINES})`),
  description: z.string().default('').describe('Why, in a few words, for the user'),
});

export const lokiQueryTool = defineTool({
  name: 'LokiQuery',
  summary: 'Reads log lines from Loki with LogQL (newest first, limited), or its label names and values',
  description: descriptionFile(new URL('./loki-query.md', import.meta.url)),
  readOnly: true,
  inputSchema,
  unavailable: needsEndpoint('loki'),
  title: (input) =>
    input.kind === 'logs'
      ? `LogQL ${input.query ?? '?'}${input.range ? ` (${input.range})` : ''}`
      : `Loki ${input.kind}${input.label ? ` ${input.label}` : ''}`,
  execute: (input, context, options) =>
    runMonitoringCall({
      tool: 'LokiQuery',
      service: 'loki',
      input,
      schema: inputSchema,
      readOnly: true,
      context,
      signal: options.signal,
      act: async (args, access): Promise<MonitoringDraft> => {
        const range = resolveTimeRange({
          range: args.range,
          start: args.start,
          end: args.end,
          now: new Date(),
          defaultMs: DEFAULT_RANGE_MS,
        });
        if ('error' in range) return refused(range.error);
        if (args.kind === 'labels' || args.kind === 'label_values') {
          if (args.kind === 'label_values' && !args.label) return refused('kind label_values needs `label`');
          const names =
            args.kind === 'labels'
              ? await lokiLabels(access, range)
              : await lokiLabelValues(access, { ...range, label: args.label! });
          const heading = `${names.length} ${args.kind === 'labels' ? 'label names' : `values of ${args.label}`} in ${range.text}`;
          return {
            blocks: [`${heading}:`, { source: 'loki-labels', text: names.join('\n') || '(none)' }],
            display: heading,
            isError: false,
          };
        }
        if (!args.query) return refused('kind logs needs `query`, a LogQL log query such as {job="nginx"}');
        const { lines, limitReached } = await lokiQueryRange(access, {
          query: args.query,
          start: range.start,
          end: range.end,
          limit: args.limit,
        });
        const text = lines
          .map((entry) => `${lokiTime(entry.timestampNs)} ${streamText(entry.stream)} ${entry.line}`)
          .join('\n');
        const heading = `${lines.length} line${lines.length === 1 ? '' : 's'} of ${args.query}, newest first, ${range.text}${limitReached ? `; the limit of ${args.limit} was reached, older lines were not read` : ''}`;
        return {
          blocks: [`${heading}:`, { source: 'loki-logs', text: text || '(no lines)' }],
          display: `${heading}\n${text}`,
          isError: false,
        };
      },
    }),
});

function streamText(stream: Record<string, string>): string {
  return `{${Object.entries(stream)
    .map(([name, value]) => `${name}=${JSON.stringify(value)}`)
    .join(', ')}}`;
}

function refused(message: string): MonitoringDraft {
  return { blocks: [`${message}. Nothing was queried.`], display: message, isError: true };
}
