/** Exit status after Ctrl-C, as shells use. */
export const EXIT_INTERRUPTED = 130;

/** What {@link abortOnSigint} returns. */
export interface SigintAbort {
  /** Aborted by the first Ctrl-C. */
  signal: AbortSignal;
  /** Stops listening for SIGINT. Call it in a `finally`. */
  dispose: () => void;
}

/**
 * Ctrl-C for a command that runs to its end: the first SIGINT aborts `signal`, so the work stops
 * cleanly (a running command and its children included); a second one exits at once with
 * {@link EXIT_INTERRUPTED}, for when stopping cleanly hangs.
 */
export function abortOnSigint(): SigintAbort {
  const abort = new AbortController();
  const onSigint = (): void => {
    if (abort.signal.aborted) process.exit(EXIT_INTERRUPTED);
    abort.abort();
  };
  process.on('SIGINT', onSigint);
  return { signal: abort.signal, dispose: () => process.off('SIGINT', onSigint) };
}
