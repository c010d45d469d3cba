import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatElapsed, terminalSpinner } from './spinner.js';

/** A terminal stream that keeps what was written, and a clock the test moves. */
function fakeTerminal(): { stream: NodeJS.WriteStream; written: () => string; clock: { now: number } } {
  let text = '';
  const stream = { write: (chunk: string) => ((text += chunk), true) } as unknown as NodeJS.WriteStream;
  return { stream, written: () => text, clock: { now: 1_000_000 } };
}

describe('terminalSpinner', () => {
  it('shows the time waited once it passes a second, and keeps counting across a restart with since', () => {
    const { stream, written, clock } = fakeTerminal();
    const spinner = terminalSpinner(stream, true, () => clock.now);
    spinner.start('thinking…');
    assert.match(written(), /⠋ thinking…$/, 'no counter at first');
    spinner.stop();
    const began = clock.now;
    clock.now += 25_100;
    spinner.start('running on local…', { since: began });
    assert.match(written(), /running on local… 25\.1s$/);
    spinner.stop();
    assert.ok(written().endsWith('\r\x1b[2K\x1b[?25h'), 'stop clears the line and shows the cursor');
    spinner.start('thinking…');
    assert.match(written(), /thinking…$/, 'a new wait starts from zero');
    spinner.stop();
  });

  it('resumes what it showed before a stop, counting from the resume (after a review)', () => {
    const { stream, written, clock } = fakeTerminal();
    const spinner = terminalSpinner(stream, true, () => clock.now);
    spinner.resume?.();
    assert.equal(written(), '', 'nothing shown yet, nothing to resume');
    spinner.start('running on ssh (host db-1)…');
    clock.now += 30_000;
    spinner.stop();
    const before = written().length;
    spinner.resume?.();
    assert.match(written().slice(before), /\S running on ssh \(host db-1\)…$/, 'shown again, no time yet');
    clock.now += 2_000;
    spinner.start('running on ssh (host db-1)…');
    spinner.stop();
    spinner.resume?.();
    assert.match(written(), /running on ssh \(host db-1\)…$/);
    spinner.stop();
  });

  it('writes nothing when disabled (not a terminal, CI)', () => {
    const { stream, written } = fakeTerminal();
    const spinner = terminalSpinner(stream, false);
    spinner.start('thinking…');
    spinner.stop();
    assert.equal(written(), '');
  });

  it('formats elapsed time short', () => {
    assert.equal(formatElapsed(400), '0.4s');
    assert.equal(formatElapsed(25_100), '25.1s');
    assert.equal(formatElapsed(125_000), '2m05s');
  });
});
