import { createInterface } from 'node:readline';

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
}): Promise<AskResult> {
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
    const finish = (result: AskResult): void => {
      if (settled) return;
      settled = true;
      options.signal?.removeEventListener('abort', onAbort);
      reader.close();
      if (result.kind === 'line' && options.history && result.text.trim() !== '') {
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
