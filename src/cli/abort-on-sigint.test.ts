import assert from 'node:assert/strict';
import { describe, it, mock } from 'node:test';
import { abortOnSigint, EXIT_INTERRUPTED } from './abort-on-sigint.js';

describe('abortOnSigint', () => {
  it('aborts on the first Ctrl-C and exits with 130 on the second', (t) => {
    const exit = t.mock.method(process, 'exit', () => undefined as never);
    const listeners = process.listenerCount('SIGINT');
    const interrupt = abortOnSigint();
    try {
      assert.equal(process.listenerCount('SIGINT'), listeners + 1);
      process.emit('SIGINT');
      assert.equal(interrupt.signal.aborted, true);
      assert.equal(exit.mock.callCount(), 0);
      process.emit('SIGINT');
      assert.deepEqual(exit.mock.calls[0]?.arguments, [EXIT_INTERRUPTED]);
    } finally {
      interrupt.dispose();
    }
    assert.equal(process.listenerCount('SIGINT'), listeners);
  });

  it('ignores Ctrl-C once disposed', () => {
    const interrupt = abortOnSigint();
    interrupt.dispose();
    const onSigint = mock.fn();
    process.on('SIGINT', onSigint);
    process.emit('SIGINT');
    process.off('SIGINT', onSigint);
    assert.equal(interrupt.signal.aborted, false);
  });
});
