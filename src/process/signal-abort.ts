const MARKER = Symbol.for('opsmate.signal-abort');

/**
 * The reason an AbortSignal carries when opsmate stops work because it received a process signal
 * (Ctrl-C's SIGINT, SIGTERM, SIGHUP), so what it stopped can say which one.
 */
export class SignalAbort extends Error {
  readonly [MARKER] = true;
  readonly signal: NodeJS.Signals;

  constructor(signal: NodeJS.Signals) {
    super(`stopped by ${signal}`);
    this.name = 'SignalAbort';
    this.signal = signal;
  }

  static isInstance(value: unknown): value is SignalAbort {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[MARKER] === true;
  }
}

/** The process signal that aborted `signal`, if it was aborted because of one. */
export function abortingSignal(signal: AbortSignal | undefined): NodeJS.Signals | undefined {
  if (!signal?.aborted) return undefined;
  const reason: unknown = signal.reason;
  return SignalAbort.isInstance(reason) ? reason.signal : undefined;
}
