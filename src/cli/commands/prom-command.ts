import { Command } from 'commander';
import { ConfigError } from '../../errors/opsmate-error.js';
import { instantQuery, rangeQueryData, type PromSeries } from '../../monitoring/prometheus-client.js';
import { seriesName, seriesStats, summariseQuery } from '../../monitoring/prometheus-summary.js';
import { chartOf, renderSeriesChart } from '../../monitoring/series-chart.js';
import {
  chooseStep,
  formatDuration,
  isoSeconds,
  parseDuration,
  parseTimePoint,
  resolveTimeRange,
  TIME_RANGE_FORMS,
} from '../../monitoring/time-range.js';
import type { CliContext } from '../cli-context.js';
import { parseOutputFormat, writeJson } from '../output-format.js';
import { renderTable } from '../render/table.js';
import { colorsFor } from '../terminal/terminal-style.js';
import {
  addMonitoringOptions,
  requestWithSignals,
  requireEndpoint,
  timeoutMs,
} from './monitoring-command-support.js';

interface CommonOptions {
  output?: string;
  timeout?: string;
}

/** `opsmate prom query EXPR`, `opsmate prom range EXPR --since 1h`: PromQL without a model. */
export function promCommand(context: CliContext): Command {
  const prom = new Command('prom').summary('run a PromQL query against PROMETHEUS_ENDPOINT (no model)');
  const query = addMonitoringOptions(
    new Command('query')
      .summary('an instant query: the value of each series now (or at --time)')
      .argument('<EXPR>', 'the PromQL expression')
      .option('--time <TIME>', 'evaluate at this time: now-1h, 14:30, RFC 3339 or Unix seconds'),
  ).action(async (expression: string, options: CommonOptions & { time?: string }) => {
    const format = parseOutputFormat(options.output);
    const endpoint = requireEndpoint(context, 'prometheus');
    const now = new Date();
    const at = options.time === undefined ? undefined : parseTimePoint(options.time, now);
    if (options.time !== undefined && !at)
      throw new ConfigError(`--time ${JSON.stringify(options.time)} is not a time`, {
        hint: `use ${TIME_RANGE_FORMS}`,
      });
    const { data, warnings } = await requestWithSignals(endpoint, (signal) =>
      instantQuery(
        { endpoint, signal, timeoutMs: timeoutMs(options.timeout) },
        { query: expression, ...(at ? { time: at } : {}) },
      ),
    );
    for (const warning of warnings) context.logger.warn(`Prometheus: ${warning}`);
    if (format === 'json')
      return writeJson(context.stdout, { query: expression, time: isoSeconds(at ?? now), ...data });
    if (data.resultType === 'scalar' || data.resultType === 'string') {
      context.stdout.write(`${data.result[1]}\n`);
      return;
    }
    const series = data.result as PromSeries[];
    if (series.length === 0) {
      context.stdout.write('(no series: the query matched nothing)\n');
      return;
    }
    context.stdout.write(
      await renderTable({
        head: ['Series', 'Value'],
        rows: series.map((entry) => [
          seriesName(entry.metric),
          entry.value?.[1] ?? seriesStats(entry.values ?? [])?.last.toString() ?? '',
        ]),
        isTerminal: Boolean(context.stdout.isTTY),
      }),
    );
  });
  const range = addMonitoringOptions(
    new Command('range')
      .summary('a range query: each series over time, drawn as a chart on a terminal')
      .argument('<EXPR>', 'the PromQL expression')
      .option('--since <RANGE>', 'the range: 1h, "last 30m", 02:00, "since 02:00" [default: 1h]')
      .option('--start <TIME>', 'start instead of --since: now-2h, 14:30, RFC 3339 or Unix seconds')
      .option('--end <TIME>', 'end [default: now]')
      .option('--step <DURATION>', 'resolution (30s, 5m) [default: chosen from the range]'),
  ).action(
    async (
      expression: string,
      options: CommonOptions & { since?: string; start?: string; end?: string; step?: string },
    ) => {
      const format = parseOutputFormat(options.output);
      const endpoint = requireEndpoint(context, 'prometheus');
      const since = options.since?.trim();
      const rangeText =
        since === undefined || /^(last|past|since)\s/i.test(since) || since === 'today'
          ? since
          : parseDuration(since) !== undefined
            ? `last ${since}`
            : `since ${since}`;
      const resolved = resolveTimeRange({
        range: rangeText,
        start: options.start,
        end: options.end,
        now: new Date(),
        defaultMs: 3_600_000,
      });
      if ('error' in resolved)
        throw new ConfigError(resolved.error, { hint: 'e.g. --since 1h or --since 02:00' });
      const spanMs = resolved.end.getTime() - resolved.start.getTime();
      let stepMs = chooseStep(spanMs);
      if (options.step !== undefined) {
        const given = parseDuration(options.step);
        if (given === undefined)
          throw new ConfigError(`--step ${JSON.stringify(options.step)} is not a duration`, {
            hint: 'e.g. --step 30s',
          });
        stepMs = given;
      }
      const { data, warnings } = await requestWithSignals(endpoint, (signal) =>
        rangeQueryData(
          { endpoint, signal, timeoutMs: timeoutMs(options.timeout) },
          { query: expression, start: resolved.start, end: resolved.end, stepMs },
        ),
      );
      for (const warning of warnings) context.logger.warn(`Prometheus: ${warning}`);
      if (format === 'json')
        return writeJson(context.stdout, {
          query: expression,
          start: isoSeconds(resolved.start),
          end: isoSeconds(resolved.end),
          step: stepMs / 1000,
          ...data,
        });
      const heading = `${expression}  (${resolved.text}, step ${formatDuration(stepMs)})`;
      if (context.stdout.isTTY && data.resultType === 'matrix') {
        context.stdout.write(
          renderSeriesChart(
            chartOf({
              title: heading,
              start: resolved.start,
              end: resolved.end,
              series: data.result as PromSeries[],
            }),
            {
              columns: context.stdout.columns || 80,
              color: colorsFor(context.stdout, context.env).isColorSupported,
            },
          ),
        );
      } else context.stdout.write(`${heading}\n`);
      const summary = summariseQuery(data, { maxSeries: Number.MAX_SAFE_INTEGER });
      context.stdout.write(`${summary.lines.join('\n')}\n`);
    },
  );
  return prom.addCommand(query).addCommand(range);
}
