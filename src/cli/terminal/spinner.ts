const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
const FRAME_INTERVAL_MS = 80;

/** Shows that opsmate is waiting; implementations may show nothing at all. */
export interface Spinner {
  start(text: string): void;
  /** Clears the spinner's line. Safe to call when not spinning. */
  stop(): void;
}

/**
 * A one-line spinner on a terminal stream. Written here rather than taken from a package because
 * the usual ones install their own SIGINT handler that exits the process, which would turn the
 * Ctrl-C meant for a running command into the end of the program.
 */
export function terminalSpinner(stream: NodeJS.WriteStream, enabled: boolean): Spinner {
  if (!enabled) return { start: () => {}, stop: () => {} };
  let timer: NodeJS.Timeout | undefined;
  let frame = 0;
  let text = '';
  const draw = (): void => {
    stream.write(`\r\x1b[2K${FRAMES[frame % FRAMES.length]} ${text}`);
    frame++;
  };
  return {
    start(next) {
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
  };
}
