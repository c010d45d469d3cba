import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PromSample } from './prometheus-client.js';
import {
  fullResultText,
  MAX_SUMMARY_SERIES,
  samplePoints,
  seriesName,
  seriesStats,
  summariseQuery,
} from './prometheus-summary.js';
import { chartOf, renderSeriesChart } from './series-chart.js';

const points = (values: number[], from = 1_764_608_400): PromSample[] =>
  values.map((value, index) => [from + index * 15, String(value)]);

describe('query results for the model', () => {
  it('names a series as PromQL writes it, labels sorted', () => {
    assert.equal(
      seriesName({ __name__: 'up', job: 'node', instance: 'a:9100' }),
      'up{instance="a:9100", job="node"}',
    );
  });

  it('min, max, mean and last, leaving NaN out of the statistics', () => {
    const stats = seriesStats(points([1, 5, Number.NaN, 3]))!;
    assert.deepEqual([stats.points, stats.min, stats.max, stats.mean, stats.last], [4, 1, 5, 3, 3]);
  });

  it('samples evenly, first and last included', () => {
    const sampled = samplePoints(points([...Array(100).keys()]), 5).map(([, value]) => value);
    assert.deepEqual(sampled, ['0', '25', '50', '74', '99']);
  });

  it('cuts series past the cap and counts them; the full text keeps every point', () => {
    const result = [...Array(MAX_SUMMARY_SERIES + 3).keys()].map((index) => ({
      metric: { __name__: 'x', i: String(index) },
      values: points([index, index + 1]),
    }));
    const summary = summariseQuery({ resultType: 'matrix', result });
    assert.equal(summary.cutSeries, 3);
    assert.equal(summary.seriesCount, MAX_SUMMARY_SERIES + 3);
    assert.match(summary.lines[0]!, /^x\{i="0"\}: 2 points, min 0, max 1, mean 0\.5, last 1 \(first 0\)$/);
    assert.equal(
      fullResultText({ resultType: 'matrix', result })
        .split('\n')
        .filter((line) => line.startsWith('#')).length,
      MAX_SUMMARY_SERIES + 3,
    );
  });

  it('draws a chart with the value axis, the time axis and a legend', () => {
    const chart = renderSeriesChart(
      chartOf({
        title: 'rate(x[5m])',
        start: new Date(1_764_608_400_000),
        end: new Date((1_764_608_400 + 15 * 9) * 1000),
        series: [{ metric: { __name__: 'x', job: 'a' }, values: points([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]) }],
      }),
      { columns: 60, color: false, height: 5 },
    );
    const lines = chart.split('\n');
    assert.equal(lines[0], 'rate(x[5m])');
    assert.match(chart, /^\s*9 [┤┼]/m);
    assert.match(chart, /^\s*0 ┼/m);
    assert.match(chart, /17:00:00Z .* 17:02:15Z$/m);
    assert.match(chart, /^ {2}1: x\{job="a"\}$/m);
  });
});
