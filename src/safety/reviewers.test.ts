import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import type { ReviewRequest } from '../runtime/command-review.js';
import { ApprovingReviewer, chooseReviewer, NoTerminalReviewer, TerminalReviewer } from './reviewers.js';

const REQUEST: ReviewRequest = {
  command: 'rm -rf /tmp/x',
  runtime: 'ssh',
  target: { host: 'db-1' },
  reason: 'recursive or forced rm [builtin:rm-recursive-or-force]',
};

/** A terminal stand-in: the test types answers once the prompt shows. */
function fakeTerminal(answers: string[]) {
  const input = new PassThrough();
  const output = new PassThrough();
  let shown = '';
  output.on('data', (chunk: Buffer) => {
    shown += chunk.toString();
    if (/\? $|: $/.test(shown) && answers.length > 0) {
      shown = '';
      const answer = answers.shift()!;
      setImmediate(() => input.write(answer));
    }
  });
  let transcript = '';
  output.on('data', (chunk: Buffer) => (transcript += chunk.toString()));
  return { input, output, transcript: () => transcript };
}

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

  it('chooses the refusing reviewer when stdin is not a terminal', () => {
    const stream = Object.assign(new PassThrough(), { isTTY: false });
    const reviewer = chooseReviewer({ input: stream as never, output: stream as never });
    assert.ok(reviewer instanceof NoTerminalReviewer);
    assert.ok(chooseReviewer({ yes: true }) instanceof ApprovingReviewer);
  });

  it('prompts on the terminal: approve, cancel with a reason, and Ctrl-D', async () => {
    const approve = fakeTerminal(['a\n']);
    const reviewer = new TerminalReviewer(approve);
    assert.deepEqual(await reviewer.review(REQUEST), { action: 'approve' });
    assert.match(
      approve.transcript(),
      /opsmate wants to run on ssh \(host=db-1\):\n {2}rm -rf \/tmp\/x\n {2}why it asks: recursive/,
    );

    const cancel = fakeTerminal(['c\n', 'use the runbook\n']);
    assert.deepEqual(await new TerminalReviewer(cancel).review(REQUEST), {
      action: 'cancel',
      reason: 'cancelled by the user: use the runbook',
    });

    const closed = fakeTerminal([]);
    const pending = new TerminalReviewer(closed).review(REQUEST);
    closed.input.end();
    assert.equal((await pending).action, 'cancel');
  });

  it('lets the user edit the proposed command in place', async () => {
    // Ctrl-U clears the prefilled command, then the new one is typed.
    const edit = fakeTerminal(['e\n', '\x15rm -ri /tmp/x\n']);
    assert.deepEqual(await new TerminalReviewer(edit).review(REQUEST), {
      action: 'edit',
      command: 'rm -ri /tmp/x',
    });
    const keep = fakeTerminal(['e\n', '\n']);
    assert.deepEqual(await new TerminalReviewer(keep).review(REQUEST), { action: 'approve' });
  });

  it('cancels when the signal aborts while it waits', async () => {
    const terminal = fakeTerminal([]);
    const abort = new AbortController();
    const pending = new TerminalReviewer(terminal).review(REQUEST, { signal: abort.signal });
    abort.abort();
    assert.deepEqual(await pending, { action: 'cancel', reason: 'interrupted' });
  });
});
