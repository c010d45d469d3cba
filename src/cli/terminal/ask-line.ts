import { createInterface } from 'node:readline';

/** Asks the terminal to mark pasted text (`ESC [200~ ... ESC [201~`), and to stop. */
const BRACKETED_PASTE_ON = '\x1b[?2004h';
const BRACKETED_PASTE_OFF = '\x1b[?2004l';

interface KeyPress {
  name?: string;
  meta?: boolean;
  shift?: boolean;
}

export type AskResult = { kind: 'line'; text: string } | { kind: 'interrupt' } | { kind: 'eof' };

/**
 * Reads one line from a terminal with line editing. The interface lives only while the question
 * is open, so between questions the terminal is back in cooked mode and Ctrl-C reaches the
 * process as SIGINT (to cancel a running command) instead of being swallowed by readline.
 */
export function askLine(options: {
  input: NodeJS.ReadStream;
  output: NodeJS.WriteStream;
  prompt: string;
  /** Text already on the line, editable, e.g. the command under review. */
  prefill?: string;
  /** Earlier lines, newest first, for the up arrow. Updated with the new line. */
  history?: string[];
  signal?: AbortSignal;
  /**
   * A message may span lines: a paste (bracketed paste, which the terminal is asked for) keeps
   * its newlines and becomes one message, and Alt-Enter (or Shift-Enter where the terminal
   * reports it as such) starts a new line. Enter sends. Continuation lines show `continuation`.
   */
  multiline?: { continuation: string };
}): Promise<AskResult> {
  // Ctrl-D typed while the terminal was in cooked mode (between questions) ended the input.
  if (options.input.readableEnded) return Promise.resolve({ kind: 'eof' });
  return new Promise((resolve) => {
    const reader = createInterface({
      input: options.input,
      output: options.output,
      terminal: true,
      history: options.history ? [...options.history] : [],
      historySize: 500,
      removeHistoryDuplicates: true,
    });
    let settled = false;
    const earlier: string[] = [];
    if (options.multiline) {
      const { continuation } = options.multiline;
      options.output.write(BRACKETED_PASTE_ON);
      let pasting = false;
      // readline's own key handler, wrapped: it would send the message at the first newline.
      const internals = reader as unknown as {
        _ttyWrite(text: string, key: KeyPress | undefined): void;
        line: string;
        cursor: number;
      };
      const ttyWrite = internals._ttyWrite.bind(reader);
      internals._ttyWrite = (text, key) => {
        if (key?.name === 'paste-start' || key?.name === 'paste-end') {
          pasting = key.name === 'paste-start';
          return;
        }
        const newline = key?.name === 'enter' || key?.name === 'return';
        if (newline && (pasting || key.meta === true || key.shift === true)) {
          earlier.push(internals.line);
          internals.line = '';
          internals.cursor = 0;
          options.output.write('\n');
          reader.setPrompt(continuation);
          reader.prompt(true);
          return;
        }
        ttyWrite(text, key);
      };
    }
    const finish = (result: AskResult): void => {
      if (settled) return;
      settled = true;
      options.signal?.removeEventListener('abort', onAbort);
      if (options.multiline) options.output.write(BRACKETED_PASTE_OFF);
      if (result.kind === 'line' && earlier.length > 0) {
        result = { kind: 'line', text: [...earlier, result.text].join('\n') };
      }
      reader.close();
      if (
        result.kind === 'line' &&
        options.history &&
        result.text.trim() !== '' &&
        !result.text.includes('\n')
      ) {
        const index = options.history.indexOf(result.text);
        if (index >= 0) options.history.splice(index, 1);
        options.history.unshift(result.text);
      }
      resolve(result);
    };
    const onAbort = (): void => {
      options.output.write('\n');
      finish({ kind: 'interrupt' });
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    reader.on('SIGINT', () => {
      options.output.write('^C\n');
      finish({ kind: 'interrupt' });
    });
    reader.on('close', () => finish({ kind: 'eof' }));
    reader.question(options.prompt, (text) => finish({ kind: 'line', text }));
    if (options.prefill) reader.write(options.prefill);
  });
}
