import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CommandReviewer, ReviewDecision, ReviewRequest } from '../runtime/command-review.js';
import { FanOutReviewer } from './fan-out-reviewer.js';
import { groupOutcomes, summarizeOutcomes, type GroupableOutcome } from './group-results.js';

const ran = (target: string, stdout: string, exitCode = 0): GroupableOutcome => ({
  target,
  status: exitCode === 0 ? 'ok' : 'failed',
  exitCode,
  stdout,
  stderr: '',
  timedOut: false,
});

describe('groupOutcomes', () => {
  it('one group per identical result, smallest first, unreachable and not run last', () => {
    const groups = groupOutcomes([
      ran('a', '1.9\n'),
      {
        target: 'gone',
        status: 'unreachable',
        exitCode: null,
        stdout: '',
        stderr: '',
        timedOut: false,
        notice: 'refused',
      },
      ran('b', '1.8\n'),
      ran('c', '1.9\n'),
      ran('d', '1.9\n', 1),
      {
        target: 'x',
        status: 'not-run',
        exitCode: null,
        stdout: '',
        stderr: '',
        timedOut: false,
        notice: 'not run: denied',
      },
      ran('e', '1.9\n'),
      {
        target: 'gone2',
        status: 'unreachable',
        exitCode: null,
        stdout: '',
        stderr: '',
        timedOut: false,
        notice: 'timeout',
      },
    ]);
    assert.deepEqual(
      groups.map((group) => [group.status, group.exitCode, group.targets]),
      [
        ['ok', 0, ['b']],
        ['failed', 1, ['d']],
        ['ok', 0, ['a', 'c', 'e']],
        ['unreachable', null, ['gone', 'gone2']],
        ['not-run', null, ['x']],
      ],
    );
    assert.deepEqual(groups[3]!.notices, [
      { target: 'gone', notice: 'refused' },
      { target: 'gone2', notice: 'timeout' },
    ]);
  });

  it('the same output with another exit code, or on stderr, is another group', () => {
    const groups = groupOutcomes([ran('a', 'x'), ran('b', 'x', 2), { ...ran('c', ''), stderr: 'x' }]);
    assert.equal(groups.length, 3);
    assert.equal(summarizeOutcomes([ran('a', ''), ran('b', '', 1)]), '1 ok, 1 failed');
  });
});

describe('FanOutReviewer', () => {
  it('asks once for a command across the fan-out, with the count, and gives every target that answer', async () => {
    const asked: ReviewRequest[] = [];
    const inner: CommandReviewer = {
      review: async (request): Promise<ReviewDecision> => {
        asked.push(request);
        await new Promise((resolve) => setTimeout(resolve, 5));
        return { action: 'approve' };
      },
    };
    const reviewer = new FanOutReviewer({ reviewer: inner, targets: ['a', 'b', 'c'] });
    const request = (target: string): ReviewRequest => ({
      command: 'systemctl restart x',
      runtime: 'ssh',
      target: { target },
    });
    const answers = await Promise.all(['a', 'b', 'c'].map((target) => reviewer.review(request(target))));
    assert.deepEqual(answers, [{ action: 'approve' }, { action: 'approve' }, { action: 'approve' }]);
    assert.equal(asked.length, 1);
    assert.deepEqual(asked[0]!.target, { targets: '3: a, b, c' });
    assert.match(asked[0]!.reason ?? '', /one answer for all 3 targets/);
    await reviewer.review({ ...request('a'), command: 'other' });
    assert.equal(asked.length, 2, 'another command is another question');
  });
});
