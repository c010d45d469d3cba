import assert from 'node:assert/strict';
import { describe, it, mock } from 'node:test';
import { abortingSignal } from '../process/signal-abort.js';
import {
  abortOnSignals,
  EXIT_HANGUP,
  EXIT_INTERRUPTED,
  EXIT_TERMINATED,
  stopRunningCommands,
} from './abort-on-signals.js';

describe('abortOnSignals', () => {
  it('aborts on the first Ctrl-C and exits with 130 on the second', () => {
    const exit = mock.fn((code: number) => void code);
    const listeners = process.listenerCount('SIGINT');
    const interrupt = abortOnSignals({ exit, duplicateWindowMs: 0 });
    try {
      assert.equal(process.listenerCount('SIGINT'), listeners + 1);
      process.emit('SIGINT');
      assert.equal(interrupt.signal.aborted, true);
      assert.equal(abortingSignal(interrupt.signal), 'SIGINT');
      assert.equal(interrupt.exitCode(), EXIT_INTERRUPTED);
      assert.equal(exit.mock.callCount(), 0);
      process.emit('SIGINT');
      assert.deepEqual(exit.mock.calls[0]?.arguments, [EXIT_INTERRUPTED]);
    } finally {
      interrupt.dispose();
    }
    assert.equal(process.listenerCount('SIGINT'), listeners);
  });

  for (const [name, code] of [
    ['SIGTERM', EXIT_TERMINATED],
    ['SIGHUP', EXIT_HANGUP],
  ] as const) {
    it(`treats ${name} like Ctrl-C, and names it in the abort reason and the exit status`, () => {
      const exit = mock.fn((code: number) => void code);
      const interrupt = abortOnSignals({ exit, duplicateWindowMs: 0 });
      try {
        assert.equal(interrupt.exitCode(0), 0);
        process.emit(name);
        assert.equal(interrupt.received, name);
        assert.equal(abortingSignal(interrupt.signal), name);
        assert.equal(interrupt.exitCode(), code);
        process.emit(name);
        assert.deepEqual(exit.mock.calls[0]?.arguments, [code]);
      } finally {
        interrupt.dispose();
      }
    });
  }

  it('counts one signal delivered twice at once (terminal and supervisor) as one', () => {
    const exit = mock.fn((code: number) => void code);
    const interrupt = abortOnSignals({ exit, duplicateWindowMs: 60_000 });
    try {
      process.emit('SIGTERM');
      process.emit('SIGTERM');
      assert.equal(interrupt.signal.aborted, true);
      assert.equal(exit.mock.callCount(), 0);
      process.emit('SIGINT');
      assert.equal(exit.mock.callCount(), 1);
    } finally {
      interrupt.dispose();
    }
  });

  it('stops every running command on a crash, and no longer once disposed', () => {
    const first = abortOnSignals();
    const second = abortOnSignals();
    second.dispose();
    try {
      assert.equal(stopRunningCommands(new Error('crash')), 1);
      assert.equal(first.signal.aborted, true);
      assert.equal((first.signal.reason as Error).message, 'crash');
      assert.equal(second.signal.aborted, false);
    } finally {
      first.dispose();
    }
    assert.equal(stopRunningCommands(new Error('crash')), 0);
  });

  it('ignores the signals once disposed', () => {
    const interrupt = abortOnSignals();
    interrupt.dispose();
    const onSigterm = mock.fn();
    process.on('SIGTERM', onSigterm);
    process.emit('SIGTERM');
    process.off('SIGTERM', onSigterm);
    assert.equal(interrupt.signal.aborted, false);
  });
});
