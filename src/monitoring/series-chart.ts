import asciichart from 'asciichart';
import type { ToolChart } from '../agent/tools/tool-contract.js';
import type { PromSeries } from './prometheus-client.js';
import { formatValue, seriesName } from './prometheus-summary.js';

/** The chart of a range query's series. */
export function chartOf(options: {
  title: string;
  start: Date;
  end: Date;
  series: readonly PromSeries[];
}): ToolChart {
  return {
    title: options.title,
    start: options.start.getTime() / 1000,
    end: options.end.getTime() / 1000,
    series: options.series.map((entry) => ({
      name: seriesName(entry.metric),
      points: (entry.values ?? []).map(([at, value]) => [at, Number(value)] as const),
    })),
  };
}

/** Series drawn at most; a line says how many more there were. */
export const MAX_CHART_SERIES = 6;
const COLORS = [
  asciichart.green,
  asciichart.cyan,
  asciichart.yellow,
  asciichart.magenta,
  asciichart.blue,
  asciichart.red,
];

/**
 * A line chart per series on one grid, with the value axis on the left, the time axis below and a
 * legend; `columns` is the terminal's width. Colored only when `color` is set.
 */
export function renderSeriesChart(
  chart: ToolChart,
  options: { columns: number; color: boolean; height?: number },
): string {
  const drawn = chart.series.filter((entry) => entry.points.length > 0).slice(0, MAX_CHART_SERIES);
  if (drawn.length === 0) return `${chart.title}\n(no points to draw)\n`;
  const all = drawn.flatMap((entry) => entry.points.map(([, value]) => value)).filter(Number.isFinite);
  const min = all.length ? Math.min(...all) : 0;
  const max = all.length ? Math.max(...all) : 0;
  const height = options.height ?? 10;
  const top = max === min ? min + 1 : max;
  // Every row's label, so the axis lines up whatever the values' lengths.
  const labelWidth =
    Math.max(
      ...Array.from(
        { length: height + 1 },
        (_, row) => formatValue(top - (row * (top - min)) / height).length,
      ),
    ) + 1;
  const width = Math.max(10, Math.min(200, options.columns - labelWidth - 3));
  const span = Math.max(1, chart.end - chart.start);
  const lines = drawn.map((entry) => {
    const grid: number[] = new Array<number>(width).fill(Number.NaN);
    for (const [at, value] of entry.points) {
      const column = Math.min(width - 1, Math.max(0, Math.round(((at - chart.start) / span) * (width - 1))));
      if (Number.isFinite(value)) grid[column] = value;
    }
    return fillGaps(grid);
  });
  const plot = asciichart.plot(lines, {
    height,
    min,
    max: top,
    format: (value: number) => formatValue(value).padStart(labelWidth),
    ...(options.color ? { colors: COLORS.slice(0, lines.length) } : {}),
  });
  const offset = labelWidth + 2;
  const startText = clock(chart.start);
  const endText = clock(chart.end);
  const middleText = clock((chart.start + chart.end) / 2);
  const axis = ' '.repeat(offset) + placeAxis({ width, startText, middleText, endText });
  const legend = drawn.map((entry, index) => {
    const mark = options.color ? `${COLORS[index]}━━${asciichart.reset}` : `${index + 1}:`;
    return `  ${mark} ${entry.name}`;
  });
  const more = chart.series.length - drawn.length;
  return [
    chart.title,
    plot,
    axis,
    ...legend,
    ...(more > 0 ? [`  (${more} more series not drawn)`] : []),
    ...(!options.color && drawn.length > 1 ? ['  (series are told apart by color on a color terminal)'] : []),
    '',
  ].join('\n');
}

/** A gap between points is drawn as a flat line from the last value; leading gaps take the first. */
function fillGaps(grid: number[]): number[] {
  const first = grid.find((value) => !Number.isNaN(value)) ?? 0;
  let last = first;
  return grid.map((value) => (Number.isNaN(value) ? last : (last = value)));
}

function clock(seconds: number): string {
  return new Date(seconds * 1000).toISOString().slice(11, 19) + 'Z';
}

function placeAxis(options: {
  width: number;
  startText: string;
  middleText: string;
  endText: string;
}): string {
  const line = new Array<string>(options.width).fill(' ');
  const put = (at: number, text: string) => {
    for (let index = 0; index < text.length && at + index < options.width; index += 1)
      line[at + index] = text[index]!;
  };
  put(0, options.startText);
  if (options.width >= options.startText.length * 3 + 4)
    put(Math.floor(options.width / 2 - options.middleText.length / 2), options.middleText);
  put(Math.max(0, options.width - options.endText.length), options.endText);
  return line.join('').trimEnd();
}
