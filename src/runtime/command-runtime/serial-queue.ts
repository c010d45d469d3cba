/**
 * Runs async work one piece at a time, in the order it was queued. A runtime with one connection
 * uses it so concurrent `run()` calls never interleave. A failing piece does not stop the queue.
 */
export class SerialQueue {
  #tail: Promise<unknown> = Promise.resolve();

  /** Queues `work`; resolves or rejects as it does, after everything queued before it settled. */
  run<T>(work: () => Promise<T>): Promise<T> {
    const next = this.#tail.then(work, work);
    this.#tail = next.catch(() => undefined);
    return next;
  }
}
