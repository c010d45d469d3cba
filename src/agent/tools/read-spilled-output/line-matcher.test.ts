import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LineMatcher, MatchBudgetExceeded } from './line-matcher.js';

function open(
  pattern: string,
  options: { ignoreCase?: boolean; signal?: AbortSignal; budgetMs?: number } = {},
) {
  const opened = LineMatcher.open({
    pattern,
    ignoreCase: options.ignoreCase ?? false,
    signal: options.signal ?? new AbortController().signal,
    ...(options.budgetMs !== undefined ? { budgetMs: options.budgetMs } : {}),
  });
  if ('problem' in opened) throw new Error(opened.problem);
  return opened.matcher;
}

describe('LineMatcher: model-supplied patterns are untrusted', () => {
  it('matches a pattern that makes a backtracking engine explode, at once and correctly', async () => {
    const matcher = open('^(a+)+$');
    try {
      const lines = ['a'.repeat(34) + 'b', 'a'.repeat(5000), 'b'];
      assert.deepEqual(await matcher.match(lines), [1]);
    } finally {
      matcher.close();
    }
  });

  it('honours ignoreCase and RE2 syntax, and refuses what RE2 cannot do in linear time', async () => {
    const matcher = open('error|timeout', { ignoreCase: true });
    try {
      assert.deepEqual(await matcher.match(['ok', 'ERROR x', 'Timeout', 'fine']), [1, 2]);
    } finally {
      matcher.close();
    }
    for (const pattern of ['(a)\\1', '(?=a)b', '(', 'x'.repeat(1001)]) {
      const opened = LineMatcher.open({ pattern, ignoreCase: false, signal: new AbortController().signal });
      assert.ok('problem' in opened, pattern);
    }
  });

  it('stops a search at once when the signal aborts, with the abort reason', async () => {
    const abort = new AbortController();
    // Linear but heavy: a large program over long lines that hold its required literal (b) keeps
    // the worker busy for a long while (about 0.2 s a line here; lines without a b take no time).
    const matcher = open('\\w{1000}\\w{1000}b', { signal: abort.signal });
    const lines = Array.from({ length: 200 }, () => 'ab'.repeat(10_000));
    const search = matcher.match(lines);
    setTimeout(() => abort.abort(new Error('Ctrl-C')), 50);
    await assert.rejects(search, /Ctrl-C/);
    await assert.rejects(matcher.match(['x']), /Ctrl-C/);
  });

  it("keeps opsmate's event loop turning during a long search, so Ctrl-C and SIGTERM handlers run", async () => {
    const abort = new AbortController();
    const matcher = open('\\w{1000}\\w{1000}b', { signal: abort.signal });
    const lines = Array.from({ length: 200 }, () => 'ab'.repeat(10_000));
    let ticks = 0;
    const search = matcher.match(lines);
    const ticker = setInterval(() => {
      ticks++;
      if (ticks === 5) abort.abort(new Error('stopped after five ticks'));
    }, 10);
    try {
      await assert.rejects(search, /stopped after five ticks/);
    } finally {
      clearInterval(ticker);
    }
    assert.equal(ticks, 5);
  });

  it('gives up with MatchBudgetExceeded when the search uses its time budget', async () => {
    const matcher = open('\\w{1000}\\w{1000}b', { budgetMs: 50 });
    const lines = Array.from({ length: 200 }, () => 'ab'.repeat(10_000));
    await assert.rejects(matcher.match(lines), MatchBudgetExceeded);
  });
});
