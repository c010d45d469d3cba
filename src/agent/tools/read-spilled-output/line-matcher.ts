import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { RE2JS } from 're2js';
import { errorMessage } from '../../../errors/opsmate-error.js';

/** Longest pattern accepted: a grep pattern is short, and compiling is linear in its size. */
export const MAX_PATTERN_LENGTH = 1000;
/** Matching time one search may use, in all; past it the search stops and says where. */
export const MATCH_TIME_BUDGET_MS = 30_000;

/**
 * The worker: compiles the pattern once, then answers each batch of lines with the indexes of
 * those that match. Plain JavaScript, so it runs the same from dist/ and under tsx.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { RE2JS } = require(workerData.re2js);
const pattern = RE2JS.compile(workerData.pattern, workerData.flags);
parentPort.on('message', (lines) => {
  const hits = [];
  for (let index = 0; index < lines.length; index++) if (pattern.test(lines[index])) hits.push(index);
  parentPort.postMessage(hits);
});
`;

/** Why a search stopped before the end of the file. */
export class MatchBudgetExceeded extends Error {
  constructor(budgetMs = MATCH_TIME_BUDGET_MS) {
    super(`the search used its ${budgetMs / 1000} s budget`);
    this.name = 'MatchBudgetExceeded';
  }
}

/**
 * Matches lines against a pattern the model gave, which is untrusted input: RE2 syntax (linear
 * time, whatever the pattern: no backtracking, so `(a+)+$` cannot explode), run in a worker
 * thread so that even a slow search never blocks opsmate's event loop. Aborting the signal, or
 * using up {@link MATCH_TIME_BUDGET_MS}, terminates the worker at once.
 */
export class LineMatcher {
  readonly #worker: Worker;
  readonly #signal: AbortSignal;
  readonly #budgetMs: number;
  #usedMs = 0;
  #failure: Error | undefined;
  #pending: { resolve: (hits: number[]) => void; reject: (error: unknown) => void } | undefined;

  private constructor(options: { pattern: string; flags: number; signal: AbortSignal; budgetMs: number }) {
    this.#signal = options.signal;
    this.#budgetMs = options.budgetMs;
    this.#worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: {
        re2js: createRequire(import.meta.url).resolve('re2js'),
        pattern: options.pattern,
        flags: options.flags,
      },
    });
    this.#worker.unref();
    this.#worker.on('message', (hits: number[]) => {
      const pending = this.#pending;
      this.#pending = undefined;
      pending?.resolve(hits);
    });
    this.#worker.on('error', (error) => this.#fail(error));
    this.#worker.on('exit', () => this.#fail(new Error('the pattern worker stopped')));
  }

  /**
   * Checks the pattern (RE2 syntax) and starts its worker, or returns why the pattern is not
   * valid, in words the model can act on.
   */
  static open(options: {
    pattern: string;
    ignoreCase: boolean;
    signal: AbortSignal;
    /** Default {@link MATCH_TIME_BUDGET_MS}. */
    budgetMs?: number;
  }): { matcher: LineMatcher } | { problem: string } {
    if (options.pattern.length > MAX_PATTERN_LENGTH) {
      return { problem: `the pattern is longer than ${MAX_PATTERN_LENGTH} characters` };
    }
    const flags = options.ignoreCase ? RE2JS.CASE_INSENSITIVE : 0;
    try {
      RE2JS.compile(options.pattern, flags);
    } catch (error) {
      return { problem: errorMessage(error) };
    }
    return {
      matcher: new LineMatcher({
        pattern: options.pattern,
        flags,
        signal: options.signal,
        budgetMs: options.budgetMs ?? MATCH_TIME_BUDGET_MS,
      }),
    };
  }

  /** The indexes of the lines that match. Rejects on abort, with the signal's reason. */
  async match(lines: readonly string[]): Promise<number[]> {
    this.#signal.throwIfAborted();
    if (this.#failure) throw this.#failure;
    const remainingMs = this.#budgetMs - this.#usedMs;
    const started = performance.now();
    let timer: NodeJS.Timeout | undefined;
    const onAbort = (): void => this.#fail(this.#signal.reason);
    this.#signal.addEventListener('abort', onAbort, { once: true });
    try {
      return await new Promise<number[]>((resolve, reject) => {
        this.#pending = { resolve, reject };
        timer = setTimeout(
          () => this.#fail(new MatchBudgetExceeded(this.#budgetMs)),
          Math.max(0, remainingMs),
        );
        this.#worker.postMessage(lines);
      });
    } finally {
      clearTimeout(timer);
      this.#signal.removeEventListener('abort', onAbort);
      this.#usedMs += performance.now() - started;
    }
  }

  /** What {@link MatchBudgetExceeded} says for this matcher. */
  get budgetMs(): number {
    return this.#budgetMs;
  }

  /** Stops the worker. */
  close(): void {
    this.#fail(new Error('the pattern worker was closed'));
  }

  #fail(error: unknown): void {
    this.#failure ??= error instanceof Error ? error : new Error(errorMessage(error));
    const pending = this.#pending;
    this.#pending = undefined;
    void this.#worker.terminate();
    pending?.reject(this.#failure === error ? error : this.#failure);
  }
}
