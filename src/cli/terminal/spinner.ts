const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
const FRAME_INTERVAL_MS = 80;
/** Elapsed time is shown once a wait is this long: a quick answer shows no counter. */
const SHOW_ELAPSED_AFTER_MS = 1_000;

/** Shows that opsmate is waiting; implementations may show nothing at all. */
export interface Spinner {
  /**
   * Shows `text` and the time waited so far. `since` (epoch ms) is when the wait began, for a
   * wait that goes on after the spinner was stopped (a command between two bursts of output);
   * by default the wait begins now, or goes on when the text is the one already shown.
   */
  start(text: string, options?: { since?: number }): void;
  /** Clears the spinner's line. Safe to call when not spinning. */
  stop(): void;
  /**
   * Shows again what was shown before the last stop, its time counted from now (after a review:
   * the approved command runs, and may print nothing for a while). Nothing when nothing was shown.
   */
  resume?(): void;
}

/** `0.4s`, `25.1s`, `2m05s`: short enough for a status line. */
export function formatElapsed(milliseconds: number): string {
  if (milliseconds < 59_950) return `${(Math.max(0, milliseconds) / 1000).toFixed(1)}s`;
  const seconds = Math.round(milliseconds / 1000);
  return `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, '0')}s`;
}

/**
 * A one-line spinner on a terminal stream, with the time waited. Written here rather than taken
 * from a package because the usual ones install their own SIGINT handler that exits the process,
 * which would turn the Ctrl-C meant for a running command into the end of the program.
 */
export function terminalSpinner(
  stream: NodeJS.WriteStream,
  enabled: boolean,
  clock: () => number = Date.now,
): Spinner {
  if (!enabled) return { start: () => {}, stop: () => {}, resume: () => {} };
  let timer: NodeJS.Timeout | undefined;
  let frame = 0;
  let text = '';
  let since = 0;
  const draw = (): void => {
    const elapsed = clock() - since;
    const time = elapsed >= SHOW_ELAPSED_AFTER_MS ? ` ${formatElapsed(elapsed)}` : '';
    stream.write(`\r\x1b[2K${FRAMES[frame % FRAMES.length]} ${text}${time}`);
    frame++;
  };
  return {
    start(next, options = {}) {
      if (options.since !== undefined) since = options.since;
      else if (next !== text || !timer) since = clock();
      text = next;
      if (timer) return;
      stream.write('\x1b[?25l');
      draw();
      timer = setInterval(draw, FRAME_INTERVAL_MS);
      timer.unref();
    },
    stop() {
      if (!timer) return;
      clearInterval(timer);
      timer = undefined;
      stream.write('\r\x1b[2K\x1b[?25h');
    },
    resume() {
      if (timer || text === '') return;
      this.start(text, { since: clock() });
    },
  };
}
