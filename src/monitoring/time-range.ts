/** A time range as the tools and commands use it, with the words that say which one it is. */
export interface TimeRange {
  start: Date;
  end: Date;
  /** `2026-12-01T16:00:00Z to 2026-12-01T17:00:00Z (last 1h)`. */
  text: string;
}

const UNITS_MS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
  y: 31_536_000_000,
};

const DURATION = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d|w|y))+$/;

/** Milliseconds of a Prometheus-style duration (`90s`, `1h30m`, `2d`); undefined if it is not one. */
export function parseDuration(text: string): number | undefined {
  const value = text.trim().toLowerCase().replace(/\s+/g, '');
  const words: Record<string, string> = {
    minutes: 'm',
    minute: 'm',
    mins: 'm',
    min: 'm',
    hours: 'h',
    hour: 'h',
    hrs: 'h',
    hr: 'h',
    days: 'd',
    day: 'd',
    weeks: 'w',
    week: 'w',
    seconds: 's',
    second: 's',
    secs: 's',
    sec: 's',
  };
  const short = value.replace(
    /(\d)(minutes?|mins?|hours?|hrs?|days?|weeks?|seconds?|secs?)/g,
    (_, digit: string, unit: string) => `${digit}${words[unit]}`,
  );
  if (!DURATION.test(short)) return undefined;
  let total = 0;
  for (const match of short.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d|w|y)/g))
    total += Number(match[1]) * UNITS_MS[match[2]!]!;
  return total > 0 ? total : undefined;
}

/** A duration as Prometheus writes it: `1h30m`, `15s`. */
export function formatDuration(ms: number): string {
  if (ms <= 0) return '0s';
  const parts: string[] = [];
  let rest = Math.round(ms);
  for (const [unit, size] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ] as const) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  if (rest > 0 || parts.length === 0) parts.push(`${rest}ms`);
  return parts.join('');
}

/**
 * A point in time: `now`, `now-1h`, `30m ago`, an RFC 3339 time, a Unix time in seconds, or a
 * clock time today (`02:00`, `14:30:15`, in the local time zone; yesterday's when it is still ahead).
 */
export function parseTimePoint(text: string, now: Date): Date | undefined {
  const value = text.trim();
  if (value === '' || value === 'now') return new Date(now);
  const relative = /^now\s*-\s*(.+)$/.exec(value) ?? /^(.+?)\s+ago$/.exec(value);
  if (relative) {
    const ms = parseDuration(relative[1]!);
    return ms === undefined ? undefined : new Date(now.getTime() - ms);
  }
  if (/^\d{9,11}(\.\d+)?$/.test(value)) return new Date(Number(value) * 1000);
  const clock = /^(\d{1,2}):(\d{2})(?::(\d{2}))?$/.exec(value);
  if (clock) {
    const [hours, minutes, seconds] = [Number(clock[1]), Number(clock[2]), Number(clock[3] ?? 0)];
    if (hours > 23 || minutes > 59 || seconds > 59) return undefined;
    const at = new Date(now);
    at.setHours(hours, minutes, seconds, 0);
    if (at.getTime() > now.getTime()) at.setDate(at.getDate() - 1);
    return at;
  }
  if (/^\d{4}-\d{2}-\d{2}/.test(value)) {
    const parsed = new Date(value.includes('T') || value.length === 10 ? value : value.replace(' ', 'T'));
    return Number.isNaN(parsed.getTime()) ? undefined : parsed;
  }
  return undefined;
}

/** What a range may be written as, for error messages. */
export const TIME_RANGE_FORMS =
  '"last 30m", "1h", "since 02:00", "since 2h ago", or start/end as now-1h, 14:30, RFC 3339 or Unix seconds';

/**
 * The range meant by `range` (`last 30m`, `30m`, `since 02:00`, `since now-2h`, `today`) or by
 * start/end (each a time point; end defaults to now); `defaultMs` back from now when nothing is
 * given. Returns an error message instead for words it cannot read.
 */
export function resolveTimeRange(options: {
  range?: string | undefined;
  start?: string | undefined;
  end?: string | undefined;
  now: Date;
  defaultMs: number;
}): TimeRange | { error: string } {
  const { now } = options;
  let end = now;
  if (options.end !== undefined && options.end.trim() !== '') {
    const parsed = parseTimePoint(options.end, now);
    if (!parsed) return { error: `end "${options.end}" is not a time: use ${TIME_RANGE_FORMS}` };
    end = parsed;
  }
  let start: Date;
  let how: string;
  const range = options.range?.trim().toLowerCase();
  if (range) {
    const last = /^(?:last|past)\s+(.+)$/.exec(range);
    const since = /^since\s+(.+)$/.exec(range);
    if (range === 'today') {
      start = new Date(now);
      start.setHours(0, 0, 0, 0);
      how = 'today';
    } else if (since) {
      const parsed = parseTimePoint(since[1]!, now);
      if (!parsed)
        return { error: `range "${options.range}": "${since[1]}" is not a time: use ${TIME_RANGE_FORMS}` };
      start = parsed;
      how = `since ${since[1]}`;
    } else {
      const ms = parseDuration(last ? last[1]! : range);
      if (ms === undefined)
        return { error: `range "${options.range}" is not understood: use ${TIME_RANGE_FORMS}` };
      start = new Date(end.getTime() - ms);
      how = `last ${formatDuration(ms)}`;
    }
  } else if (options.start !== undefined && options.start.trim() !== '') {
    const parsed = parseTimePoint(options.start, now);
    if (!parsed) return { error: `start "${options.start}" is not a time: use ${TIME_RANGE_FORMS}` };
    start = parsed;
    how = `from ${options.start}`;
  } else {
    start = new Date(end.getTime() - options.defaultMs);
    how = `last ${formatDuration(options.defaultMs)}, the default`;
  }
  if (start.getTime() >= end.getTime())
    return { error: `the range starts (${isoSeconds(start)}) at or after it ends (${isoSeconds(end)})` };
  return {
    start,
    end,
    text: `${isoSeconds(start)} to ${isoSeconds(end)} (${how.startsWith('last ') ? how : `${how}, ${formatDuration(end.getTime() - start.getTime())}`})`,
  };
}

/** RFC 3339 in UTC to the second. */
export function isoSeconds(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

const NICE_STEPS_MS = [
  1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10_800, 21_600, 43_200, 86_400,
].map((seconds) => seconds * 1000);

/** A step giving at most about `points` points over the range, rounded to a round number. */
export function chooseStep(rangeMs: number, points = 240): number {
  const wanted = rangeMs / points;
  return NICE_STEPS_MS.find((step) => step >= wanted) ?? Math.ceil(wanted / 86_400_000) * 86_400_000;
}
