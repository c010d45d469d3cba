import { createInterface } from 'node:readline/promises';
import type { CommandReviewer, ReviewDecision, ReviewRequest } from '../runtime/command-review.js';

/** Approves everything it is asked about: `--yes`. Deny rules still apply before it is asked. */
export class ApprovingReviewer implements CommandReviewer {
  readonly label = '--yes';

  review(): Promise<ReviewDecision> {
    return Promise.resolve({ action: 'approve' });
  }
}

/**
 * For runs without a terminal: nobody can approve, so every command that needs approval is
 * cancelled at once with the reason, and nothing waits.
 */
export class NoTerminalReviewer implements CommandReviewer {
  readonly label = 'no-terminal';

  review(request: ReviewRequest): Promise<ReviewDecision> {
    const why = request.reason ? ` (${request.reason})` : '';
    return Promise.resolve({
      action: 'cancel',
      reason: `needs approval${why} but there is no terminal to ask`,
    });
  }
}

export interface TerminalReviewerOptions {
  input: NodeJS.ReadableStream;
  /** Where the prompt goes; stderr, so a command's stdout stays clean. */
  output: NodeJS.WritableStream;
}

/**
 * Asks on the terminal: approve, edit or cancel. One prompt at a time, however many commands
 * wait. Deliberately small: the agent's own reviewer may replace it; both implement the same
 * `CommandReviewer` contract.
 */
export class TerminalReviewer implements CommandReviewer {
  readonly label = 'reviewer';
  readonly #options: TerminalReviewerOptions;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(options: TerminalReviewerOptions) {
    this.#options = options;
  }

  review(request: ReviewRequest, options: { signal?: AbortSignal } = {}): Promise<ReviewDecision> {
    const next = this.#queue.then(() => this.#ask(request, options.signal));
    this.#queue = next.catch(() => undefined);
    return next;
  }

  async #ask(request: ReviewRequest, signal?: AbortSignal): Promise<ReviewDecision> {
    if (signal?.aborted) return { action: 'cancel', reason: 'interrupted' };
    const { output } = this.#options;
    const target = Object.entries(request.target)
      .map(([key, value]) => `${key}=${value}`)
      .join(' ');
    output.write(`\nopsmate wants to run on ${request.runtime}${target ? ` (${target})` : ''}:\n`);
    output.write(`  ${request.command.replaceAll('\n', '\n  ')}\n`);
    if (request.reason) output.write(`  why it asks: ${request.reason}\n`);
    const lines = createInterface({ input: this.#options.input, output, terminal: true });
    // Ctrl-D or a closed input ends the interface without settling a pending question.
    const closed = new Promise<never>((_, reject) =>
      lines.once('close', () => reject(new Error('the terminal closed'))),
    );
    closed.catch(() => undefined);
    const questionOptions = signal ? { signal } : {};
    const ask = (prompt: string): Promise<string> =>
      Promise.race([lines.question(prompt, questionOptions), closed]);
    try {
      for (;;) {
        const answer = (await ask('[a]pprove, [e]dit, [c]ancel? ')).trim().toLowerCase();
        if (answer === 'a' || answer === 'y' || answer === 'yes' || answer === 'approve') {
          return { action: 'approve' };
        }
        if (answer === 'e' || answer === 'edit') {
          const pending = ask('command: ');
          lines.write(request.command);
          const edited = (await pending).trim();
          if (edited === '') return { action: 'cancel', reason: 'cancelled by the user' };
          return edited === request.command ? { action: 'approve' } : { action: 'edit', command: edited };
        }
        if (answer === 'c' || answer === 'n' || answer === 'no' || answer === 'cancel') {
          const reason = (await ask('reason for the model (optional): ')).trim();
          return {
            action: 'cancel',
            reason: reason ? `cancelled by the user: ${reason}` : 'cancelled by the user',
          };
        }
      }
    } catch (error) {
      if ((error as Error).name === 'AbortError') return { action: 'cancel', reason: 'interrupted' };
      return { action: 'cancel', reason: 'no answer from the terminal' };
    } finally {
      lines.close();
    }
  }
}

/**
 * The reviewer a CLI command should use: `--yes` approves, a terminal prompts, and without a
 * terminal everything that needs approval is refused.
 */
export function chooseReviewer(options: {
  yes?: boolean;
  input?: NodeJS.ReadStream;
  output?: NodeJS.WriteStream;
}): CommandReviewer {
  if (options.yes) return new ApprovingReviewer();
  const input = options.input ?? process.stdin;
  const output = options.output ?? process.stderr;
  if (input.isTTY && output.isTTY) return new TerminalReviewer({ input, output });
  return new NoTerminalReviewer();
}
