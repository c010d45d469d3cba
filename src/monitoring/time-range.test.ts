import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chooseStep, formatDuration, parseDuration, parseTimePoint, resolveTimeRange } from './time-range.js';

const NOW = new Date('2026-12-01T17:00:00Z');

describe('time ranges', () => {
  it('reads durations as Prometheus and people write them', () => {
    assert.equal(parseDuration('30m'), 1_800_000);
    assert.equal(parseDuration('1h30m'), 5_400_000);
    assert.equal(parseDuration('2 hours'), 7_200_000);
    assert.equal(parseDuration('90s'), 90_000);
    assert.equal(parseDuration('soon'), undefined);
    assert.equal(parseDuration('0s'), undefined);
    assert.equal(formatDuration(5_400_000), '1h30m');
  });

  it('resolves "last 30m", "since 02:00", start/end, and says the absolute range', () => {
    const last = resolveTimeRange({ range: 'last 30m', now: NOW, defaultMs: 3_600_000 });
    assert.ok(!('error' in last));
    assert.equal(last.text, '2026-12-01T16:30:00Z to 2026-12-01T17:00:00Z (last 30m)');
    const since = resolveTimeRange({ range: 'since now-2h', now: NOW, defaultMs: 1 });
    assert.ok(!('error' in since));
    assert.equal(since.start.toISOString(), '2026-12-01T15:00:00.000Z');
    assert.match(since.text, /\(since now-2h, 2h\)$/);
    const explicit = resolveTimeRange({
      start: '2026-12-01T10:00:00Z',
      end: 'now-1h',
      now: NOW,
      defaultMs: 1,
    });
    assert.ok(!('error' in explicit));
    assert.equal(
      explicit.text,
      '2026-12-01T10:00:00Z to 2026-12-01T16:00:00Z (from 2026-12-01T10:00:00Z, 6h)',
    );
    const fallback = resolveTimeRange({ now: NOW, defaultMs: 3_600_000 });
    assert.ok(!('error' in fallback));
    assert.match(fallback.text, /\(last 1h, the default\)$/);
  });

  it('a clock time is today, or yesterday when it is still ahead', () => {
    const at = parseTimePoint('02:00', NOW)!;
    assert.equal(at.getHours(), 2);
    assert.ok(at.getTime() <= NOW.getTime());
    assert.ok(NOW.getTime() - at.getTime() < 86_400_000);
  });

  it('says what it cannot read, and refuses a range that ends before it starts', () => {
    const bad = resolveTimeRange({ range: 'yesterday-ish', now: NOW, defaultMs: 1 });
    assert.ok('error' in bad);
    assert.match(bad.error, /range "yesterday-ish" is not understood: use "last 30m"/);
    const backwards = resolveTimeRange({ start: 'now', end: 'now-1h', now: NOW, defaultMs: 1 });
    assert.ok('error' in backwards);
    assert.match(backwards.error, /starts .* at or after it ends/);
  });

  it('chooses a round step giving at most about 240 points', () => {
    assert.equal(chooseStep(60_000), 1000);
    assert.equal(chooseStep(3_600_000), 15_000);
    assert.equal(chooseStep(86_400_000), 600_000);
    assert.ok((7 * 86_400_000) / chooseStep(7 * 86_400_000) <= 240);
  });
});
