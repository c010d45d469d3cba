import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ReviewRequest } from '../runtime/command-review.js';
import { ApprovingReviewer, NoTerminalReviewer } from './reviewers.js';

const REQUEST: ReviewRequest = {
  command: 'rm -rf /tmp/x',
  runtime: 'ssh',
  target: { host: 'db-1' },
  reason: 'recursive or forced rm [builtin:rm-recursive-or-force]',
};

describe('reviewers', () => {
  it('refuses at once without a terminal, saying why', async () => {
    const decision = await new NoTerminalReviewer().review(REQUEST);
    assert.equal(decision.action, 'cancel');
    assert.match(
      (decision as { reason: string }).reason,
      /needs approval \(recursive.*\) but there is no terminal/,
    );
  });

  it('approves everything with --yes', async () => {
    assert.deepEqual(await new ApprovingReviewer().review(), { action: 'approve' });
  });
});
