import type { PromQueryData, PromSample, PromSeries } from './prometheus-client.js';
import { isoSeconds } from './time-range.js';

/** Series summarised for the model at most; the rest are counted. */
export const MAX_SUMMARY_SERIES = 20;
/** Points of each range series shown, evenly spaced, first and last included. */
export const SAMPLED_POINTS = 8;

/** `name{a="1", b="2"}`, as PromQL writes a selector. */
export function seriesName(metric: Record<string, string>): string {
  const { __name__: name, ...labels } = metric;
  const pairs = Object.entries(labels)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, value]) => `${key}=${JSON.stringify(value)}`);
  return `${name ?? ''}{${pairs.join(', ')}}`;
}

export interface SeriesStats {
  points: number;
  min: number;
  max: number;
  mean: number;
  last: number;
  first: number;
}

/** Min, max, mean and last of the numeric samples (NaN and ±Inf are left out of min/max/mean). */
export function seriesStats(values: readonly PromSample[]): SeriesStats | undefined {
  const numbers = values.map(([, value]) => Number(value));
  const finite = numbers.filter((value) => Number.isFinite(value));
  if (numbers.length === 0) return undefined;
  return {
    points: numbers.length,
    min: finite.length ? Math.min(...finite) : Number.NaN,
    max: finite.length ? Math.max(...finite) : Number.NaN,
    mean: finite.length ? finite.reduce((sum, value) => sum + value, 0) / finite.length : Number.NaN,
    last: numbers.at(-1)!,
    first: numbers[0]!,
  };
}

/** A number short enough to read: 4 significant digits, no exponent for ordinary sizes. */
export function formatValue(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (value === 0) return '0';
  const magnitude = Math.abs(value);
  if (magnitude >= 1e15 || magnitude < 1e-4) return value.toExponential(3);
  return String(Number(value.toPrecision(4)));
}

/** `count` samples spread evenly over `values`, first and last included. */
export function samplePoints(values: readonly PromSample[], count = SAMPLED_POINTS): PromSample[] {
  if (values.length <= count) return [...values];
  const picked: PromSample[] = [];
  for (let index = 0; index < count; index += 1)
    picked.push(values[Math.round((index * (values.length - 1)) / (count - 1))]!);
  return picked;
}

function time(seconds: number): string {
  return isoSeconds(new Date(seconds * 1000));
}

/**
 * What the model reads of a query result: per series its labels, and for a range its min, max,
 * mean, last and a few sampled points; at most `maxSeries` series, in the server's order, and
 * how many were left out.
 */
export function summariseQuery(
  data: PromQueryData,
  options: { maxSeries?: number } = {},
): { lines: string[]; cutSeries: number; seriesCount: number } {
  const maxSeries = options.maxSeries ?? MAX_SUMMARY_SERIES;
  if (data.resultType === 'scalar' || data.resultType === 'string') {
    const [at, value] = data.result;
    return { lines: [`${data.resultType} ${value} at ${time(at)}`], cutSeries: 0, seriesCount: 1 };
  }
  const series = data.result as PromSeries[];
  if (series.length === 0)
    return { lines: ['(no series: the query matched nothing)'], cutSeries: 0, seriesCount: 0 };
  const shown = series.slice(0, maxSeries);
  const lines: string[] = [];
  for (const entry of shown) lines.push(...describeSeries(entry));
  return { lines, cutSeries: series.length - shown.length, seriesCount: series.length };
}

function describeSeries(entry: PromSeries): string[] {
  const name = seriesName(entry.metric);
  if (entry.value) return [`${name} => ${entry.value[1]} @ ${time(entry.value[0])}`];
  const values = entry.values ?? [];
  const stats = seriesStats(values);
  if (!stats) return [`${name}: no points`];
  const sampled = samplePoints(values)
    .map(([at, value]) => `${time(at).slice(11, 19)}=${formatValue(Number(value))}`)
    .join(' ');
  return [
    `${name}: ${stats.points} points, min ${formatValue(stats.min)}, max ${formatValue(stats.max)}, mean ${formatValue(stats.mean)}, last ${formatValue(stats.last)} (first ${formatValue(stats.first)})`,
    `  sampled: ${sampled}`,
  ];
}

/** Every sample of the result, one per line under its series, for the spill file the model may page. */
export function fullResultText(data: PromQueryData): string {
  if (data.resultType === 'scalar' || data.resultType === 'string')
    return `${data.resultType} ${data.result[1]} at ${time(data.result[0])}\n`;
  const lines: string[] = [];
  for (const entry of data.result as PromSeries[]) {
    lines.push(`# ${seriesName(entry.metric)}`);
    if (entry.value) lines.push(`${time(entry.value[0])} ${entry.value[1]}`);
    for (const [at, value] of entry.values ?? []) lines.push(`${time(at)} ${value}`);
  }
  return `${lines.join('\n')}\n`;
}
