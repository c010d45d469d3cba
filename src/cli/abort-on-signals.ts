import { SignalAbort } from '../process/signal-abort.js';

/** Exit status after Ctrl-C, as shells use (128 + SIGINT). */
export const EXIT_INTERRUPTED = 130;
/** Exit status after SIGTERM (128 + 15). */
export const EXIT_TERMINATED = 143;
/** Exit status after SIGHUP, e.g. the terminal closed (128 + 1). */
export const EXIT_HANGUP = 129;

/** The signals that stop a running command the way Ctrl-C does, and the exit status each gives. */
export const STOP_SIGNALS = {
  SIGINT: EXIT_INTERRUPTED,
  SIGTERM: EXIT_TERMINATED,
  SIGHUP: EXIT_HANGUP,
} as const;
export type StopSignal = keyof typeof STOP_SIGNALS;

/** What {@link abortOnSignals} returns. */
export interface SignalAbortHandle {
  /** Aborted by the first SIGINT, SIGTERM or SIGHUP; its reason is a {@link SignalAbort}. */
  signal: AbortSignal;
  /** The signal that arrived first, if one did. */
  readonly received: StopSignal | undefined;
  /** The exit status for the signal that arrived: 130, 143 or 129; `fallback` when none did. */
  exitCode(fallback?: number): number;
  /** Stops listening. Call it in a `finally`. */
  dispose: () => void;
}

/**
 * Ctrl-C, SIGTERM and SIGHUP for a command that runs to its end: the first of them aborts
 * `signal`, so the work stops cleanly (a running command and its children included) and is
 * recorded as stopped; a second one exits at once, for when stopping cleanly hangs. After SIGHUP
 * (the terminal went away) writes to stdout and stderr may fail: their errors are ignored.
 */
export function abortOnSignals(): SignalAbortHandle {
  const abort = new AbortController();
  let received: StopSignal | undefined;
  const handlers = new Map<StopSignal, () => void>();
  for (const name of Object.keys(STOP_SIGNALS) as StopSignal[]) {
    const handler = (): void => {
      if (abort.signal.aborted) process.exit(STOP_SIGNALS[name]);
      received = name;
      if (name === 'SIGHUP') ignoreBrokenTerminal();
      abort.abort(new SignalAbort(name));
    };
    handlers.set(name, handler);
    process.on(name, handler);
  }
  return {
    signal: abort.signal,
    get received() {
      return received;
    },
    exitCode: (fallback = EXIT_INTERRUPTED) => (received ? STOP_SIGNALS[received] : fallback),
    dispose: () => {
      for (const [name, handler] of handlers) process.off(name, handler);
    },
  };
}

/** Keeps a write to a terminal that is gone from crashing opsmate before it records what it stopped. */
export function ignoreBrokenTerminal(): void {
  for (const stream of [process.stdout, process.stderr]) {
    if (stream.listenerCount('error') === 0) stream.on('error', () => undefined);
  }
}
