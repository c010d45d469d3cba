import type { CommandReviewer, ReviewDecision, ReviewRequest } from '../runtime/command-review.js';

/**
 * One question for a command sent to many targets: the first target whose policy asks shows the
 * command with the number of targets it goes to; the answer (approve, edit, cancel) stands for
 * every target that asks about the same command. Targets the policy allows, or denies, are not
 * asked at all: each is still judged by the policy on its own.
 */
export class FanOutReviewer implements CommandReviewer {
  readonly #inner: CommandReviewer & { label?: string };
  readonly #targets: readonly string[];
  readonly #answers = new Map<string, Promise<ReviewDecision>>();

  constructor(options: { reviewer: CommandReviewer; targets: readonly string[] }) {
    this.#inner = options.reviewer;
    this.#targets = options.targets;
  }

  /** The inner reviewer's label, so the audit log names who approved. */
  get label(): string | undefined {
    return this.#inner.label;
  }

  review(request: ReviewRequest, options?: { signal?: AbortSignal }): Promise<ReviewDecision> {
    const key = `${request.kind ?? 'command'}\u0000${request.command}`;
    const known = this.#answers.get(key);
    if (known) return known;
    const count = this.#targets.length;
    const shown =
      count <= 8
        ? this.#targets.join(', ')
        : `${this.#targets.slice(0, 7).join(', ')}, … ${this.#targets.at(-1)}`;
    const answer = this.#inner.review(
      {
        ...request,
        target: { targets: `${count}: ${shown}` },
        reason: `${request.reason ? `${request.reason}; ` : ''}one answer for all ${count} targets`,
      },
      options,
    );
    this.#answers.set(key, answer);
    return answer;
  }
}
