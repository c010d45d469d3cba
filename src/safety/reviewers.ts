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
  readonly #nobody: string;

  /** `nobody`: why no one can be asked, ending the reason (default `there is no terminal to ask`). */
  constructor(options: { nobody?: string } = {}) {
    this.#nobody = options.nobody ?? 'there is no terminal to ask';
  }

  review(request: ReviewRequest): Promise<ReviewDecision> {
    const why = request.reason ? ` (${request.reason})` : '';
    return Promise.resolve({ action: 'cancel', reason: `needs approval${why} but ${this.#nobody}` });
  }
}
