/** Why a command was stopped before it finished by itself. */
export type Interruption = 'total' | 'idle' | 'cancelled';

/** How long a command that was told to stop may take to stop before it is given up on. */
export const DEFAULT_STOP_GRACE_MS = 5_000;

export interface RunLimitsOptions {
  /** Stop the work after this many milliseconds (`total`). */
  timeoutMs: number;
  /** Stop the work when `activity()` was not called for this long (`idle`). Off when unset. */
  idleTimeoutMs?: number;
  /** The caller's cancellation (`cancelled`). */
  signal?: AbortSignal;
  /** After the work was told to stop, how long to wait for it to settle. */
  stopGraceMs?: number;
}

/** What the work is given: a signal that fires at any limit, and a way to reset the idle clock. */
export interface RunControl {
  signal: AbortSignal;
  /** Call on every sign of life (each chunk of output) to reset the idle timeout. */
  activity(): void;
}

export type RunLimitsOutcome<T> =
  | { settled: true; value: T; interruption?: Interruption }
  | { settled: true; error: unknown; interruption?: Interruption }
  /** The work was told to stop and did not settle within the grace period. */
  | { settled: false; interruption: Interruption };

/**
 * Runs `work` under a total timeout, an optional idle timeout and the caller's AbortSignal. When
 * one fires, `control.signal` aborts (with the interruption as its reason) and the work should stop
 * and settle; the outcome says which limit fired. Never rejects: a rejection of `work` is returned
 * as `error`. Timers and listeners are removed before it resolves.
 */
export async function runWithLimits<T>(
  options: RunLimitsOptions,
  work: (control: RunControl) => Promise<T>,
): Promise<RunLimitsOutcome<T>> {
  const controller = new AbortController();
  let interruption: Interruption | undefined;
  let idleTimer: NodeJS.Timeout | undefined;
  let graceTimer: NodeJS.Timeout | undefined;
  let giveUp: (() => void) | undefined;
  const gaveUp = new Promise<'gave-up'>((resolve) => (giveUp = () => resolve('gave-up')));
  const stop = (kind: Interruption): void => {
    if (interruption) return;
    interruption = kind;
    controller.abort(kind);
    graceTimer = setTimeout(() => giveUp?.(), options.stopGraceMs ?? DEFAULT_STOP_GRACE_MS);
  };
  const armIdle = (): void => {
    if (options.idleTimeoutMs === undefined || interruption) return;
    if (idleTimer) clearTimeout(idleTimer);
    idleTimer = setTimeout(() => stop('idle'), options.idleTimeoutMs);
  };
  const totalTimer = setTimeout(() => stop('total'), options.timeoutMs);
  const onAbort = (): void => stop('cancelled');
  if (options.signal?.aborted) stop('cancelled');
  else options.signal?.addEventListener('abort', onAbort, { once: true });
  armIdle();
  try {
    const settled = work({ signal: controller.signal, activity: armIdle }).then(
      (value) => ({ value }),
      (error: unknown) => ({ error }),
    );
    const first = await Promise.race([settled, gaveUp]);
    if (first === 'gave-up') return { settled: false, interruption: interruption ?? 'total' };
    const extra = interruption ? { interruption } : {};
    return 'value' in first
      ? { settled: true, value: first.value, ...extra }
      : { settled: true, error: first.error, ...extra };
  } finally {
    clearTimeout(totalTimer);
    if (idleTimer) clearTimeout(idleTimer);
    if (graceTimer) clearTimeout(graceTimer);
    options.signal?.removeEventListener('abort', onAbort);
  }
}

/** `1 s`, `1.5 s`, `2 min`: a duration for a notice. */
export function formatDuration(ms: number): string {
  if (ms >= 120_000 && ms % 60_000 === 0) return `${ms / 60_000} min`;
  return `${Number((ms / 1000).toFixed(3))} s`;
}
