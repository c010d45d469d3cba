import { exitProcess } from '../plugins/plugin-guard.js';
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

/**
 * A signal delivered twice within this window counts once: under the plugin supervisor (see
 * plugin-supervisor.ts) Ctrl-C reaches opsmate from the terminal and again forwarded by the
 * supervisor, and only a second Ctrl-C from the user must exit at once.
 */
export const DUPLICATE_SIGNAL_WINDOW_MS = 300;

/**
 * A filter for one set of signal handlers: true when `name` was already seen by it less than
 * `windowMs` ago.
 */
export function duplicateSignalFilter(
  windowMs = DUPLICATE_SIGNAL_WINDOW_MS,
): (name: NodeJS.Signals) => boolean {
  const lastDelivery = new Map<string, number>();
  return (name) => {
    const now = performance.now();
    const last = lastDelivery.get(name);
    lastDelivery.set(name, now);
    return last !== undefined && now - last < windowMs;
  };
}

/** The controllers of the commands running now, so that a crash can stop them (see plugin-guard.ts). */
const running = new Set<AbortController>();

/**
 * Stops every running command as SIGTERM would, with `reason` as the abort reason; returns how
 * many there were.
 */
export function stopRunningCommands(reason: Error): number {
  const count = running.size;
  for (const controller of running) controller.abort(reason);
  return count;
}

/** Counts `controller` as a running command until the returned function is called. */
export function trackRunning(controller: AbortController): () => void {
  running.add(controller);
  return () => running.delete(controller);
}

/**
 * Stdout's reader went away (`opsmate run ... | head -1`): the work stops as for SIGTERM, quietly,
 * with exit status 0, as a program killed by SIGPIPE would have done what was asked of it.
 */
export const READER_GONE = 'SIGPIPE';

/** Handles of {@link abortOnSignals} in use: while there is one, it stops the work on EPIPE. */
let activeHandles = 0;
/** opsmate's stdout: under the plugin supervisor a stream on fd 3, not process.stdout. */
let userStdout: NodeJS.WritableStream = process.stdout;

/**
 * For commands that never call {@link abortOnSignals} (listings, `sessions show`): a closed
 * stdout ends opsmate at once with status 0, rather than with an EPIPE stack trace.
 */
export function exitQuietlyWhenStdoutCloses(stdout: NodeJS.WritableStream = process.stdout): void {
  userStdout = stdout;
  stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE' && activeHandles === 0) exitProcess(0);
  });
}

/** What {@link abortOnSignals} returns. */
export interface SignalAbortHandle {
  /** Aborted by the first SIGINT, SIGTERM or SIGHUP; its reason is a {@link SignalAbort}. */
  signal: AbortSignal;
  /** The signal that arrived first, if one did; `SIGPIPE` when stdout's reader went away. */
  readonly received: StopSignal | typeof READER_GONE | undefined;
  /** Whether to say `opsmate: interrupted`: not when the reader of stdout went away. */
  readonly quiet: boolean;
  /** The exit status for the signal that arrived: 130, 143, 129, or 0 for a closed stdout; `fallback` when none did. */
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
export function abortOnSignals(
  options: {
    /** How to exit on a second signal; default {@link exitProcess}. For tests. */
    exit?: (code: number) => void;
    /** Default {@link DUPLICATE_SIGNAL_WINDOW_MS}. */
    duplicateWindowMs?: number;
  } = {},
): SignalAbortHandle {
  const exit = options.exit ?? exitProcess;
  const isDuplicate = duplicateSignalFilter(options.duplicateWindowMs);
  const abort = new AbortController();
  let received: StopSignal | typeof READER_GONE | undefined;
  const onStdoutError = (error: NodeJS.ErrnoException): void => {
    if (error.code !== 'EPIPE' || abort.signal.aborted) return;
    received = READER_GONE;
    abort.abort(new SignalAbort(READER_GONE));
  };
  userStdout.on('error', onStdoutError);
  activeHandles++;
  const handlers = new Map<StopSignal, () => void>();
  for (const name of Object.keys(STOP_SIGNALS) as StopSignal[]) {
    const handler = (): void => {
      if (isDuplicate(name)) return;
      if (abort.signal.aborted) {
        exit(STOP_SIGNALS[name]);
        return;
      }
      received = name;
      if (name === 'SIGHUP') ignoreBrokenTerminal();
      abort.abort(new SignalAbort(name));
    };
    handlers.set(name, handler);
    process.on(name, handler);
  }
  running.add(abort);
  return {
    signal: abort.signal,
    get received() {
      return received;
    },
    get quiet() {
      return received === READER_GONE;
    },
    exitCode: (fallback = EXIT_INTERRUPTED) =>
      received === READER_GONE ? 0 : received ? STOP_SIGNALS[received] : fallback,
    dispose: () => {
      running.delete(abort);
      for (const [name, handler] of handlers) process.off(name, handler);
      // Left listening, so a late write to the closed pipe is not an unhandled error.
      if (received !== READER_GONE) userStdout.off('error', onStdoutError);
      activeHandles--;
    },
  };
}

/** Keeps a write to a terminal that is gone from crashing opsmate before it records what it stopped. */
export function ignoreBrokenTerminal(): void {
  for (const stream of [process.stdout, process.stderr]) {
    if (stream.listenerCount('error') === 0) stream.on('error', () => undefined);
  }
}
