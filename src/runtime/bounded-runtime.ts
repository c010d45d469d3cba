import { errorMessage, RuntimeError } from '../errors/opsmate-error.js';
import type { CommandLanguage, Runtime, RunOptions, RunResult } from './contract.js';

/** How long `connect()` may take unless the `connectTimeout` setting says otherwise. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 60_000;
/** How long `disconnect()` may take before opsmate goes on without it. */
export const DEFAULT_DISCONNECT_GRACE_MS = 3_000;

export interface BoundedRuntimeOptions {
  runtime: Runtime;
  /** `connect()` is given up after this long, in milliseconds. */
  connectTimeoutMs?: number;
  /** `disconnect()` is waited for this long at most, in milliseconds. */
  disconnectGraceMs?: number;
  /** Told about a disconnect that hung or failed. */
  onWarning?: (message: string) => void;
  /** Names the setting that changes the connect timeout, for the hint. */
  connectTimeoutSetting?: string;
}

/**
 * A runtime decorator that bounds what the runtime contract cannot enforce on its own, for every
 * runtime, built-in or plugin: `connect()` ends within the connect timeout and at once when its
 * signal aborts, even when the runtime ignores both, and `disconnect()` returns within a short
 * grace and never rejects, so a broken runtime can neither hang opsmate nor lose a command's
 * exit code. Everything else goes straight to the runtime.
 */
export class BoundedRuntime implements Runtime {
  readonly #inner: Runtime;
  readonly #options: BoundedRuntimeOptions;

  /** The inner runtime's optional facts, present exactly when it has them. */
  readonly osInfo?: () => Promise<string>;
  readonly whoami?: () => Promise<string>;
  readonly hasSystemd?: () => Promise<boolean>;
  readonly services?: () => Promise<string>;

  constructor(options: BoundedRuntimeOptions) {
    const inner = options.runtime;
    this.#inner = inner;
    this.#options = options;
    if (inner.osInfo) this.osInfo = () => inner.osInfo!();
    if (inner.whoami) this.whoami = () => inner.whoami!();
    if (inner.hasSystemd) this.hasSystemd = () => inner.hasSystemd!();
    if (inner.services) this.services = () => inner.services!();
  }

  get name(): string {
    return this.#inner.name;
  }

  get language(): CommandLanguage | undefined {
    return this.#inner.language;
  }

  /** The runtime this one bounds. */
  get inner(): Runtime {
    return this.#inner;
  }

  async connect(options: { signal?: AbortSignal } = {}): Promise<void> {
    const timeoutMs = this.#options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    const controller = new AbortController();
    const outer = options.signal;
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    // Settles first with the reason the wait stopped: the caller's abort, or the timeout.
    const stopped = new Promise<never>((_resolve, reject) => {
      onAbort = () => {
        controller.abort(outer?.reason);
        reject(new RuntimeError(`${this.name} runtime: connect cancelled`, { cause: outer?.reason }));
      };
      if (outer?.aborted) onAbort();
      else outer?.addEventListener('abort', onAbort, { once: true });
      timer = setTimeout(() => {
        const error = new RuntimeError(
          `${this.name} runtime: did not connect within ${formatSeconds(timeoutMs)}`,
          {
            hint: `check that the target is reachable and the runtime's options are right, or allow more time with ${this.#options.connectTimeoutSetting ?? '--connect-timeout (env OPSMATE_CONNECT_TIMEOUT)'}`,
          },
        );
        controller.abort(error);
        reject(error);
      }, timeoutMs);
    });
    const connecting = Promise.resolve().then(() => this.#inner.connect({ signal: controller.signal }));
    // A connect that settles after we gave up on it must not surface as an unhandled rejection.
    connecting.catch(() => undefined);
    stopped.catch(() => undefined);
    try {
      await Promise.race([connecting, stopped]);
    } finally {
      clearTimeout(timer);
      if (onAbort) outer?.removeEventListener('abort', onAbort);
    }
  }

  async disconnect(): Promise<void> {
    const graceMs = this.#options.disconnectGraceMs ?? DEFAULT_DISCONNECT_GRACE_MS;
    let timer: NodeJS.Timeout | undefined;
    const disconnecting = Promise.resolve()
      .then(() => this.#inner.disconnect())
      .then(
        () => 'done' as const,
        (error: unknown) => {
          this.#options.onWarning?.(`${this.name} runtime: disconnect failed: ${errorMessage(error)}`);
          return 'done' as const;
        },
      );
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), graceMs);
    });
    try {
      if ((await Promise.race([disconnecting, late])) === 'late') {
        this.#options.onWarning?.(
          `${this.name} runtime: disconnect did not finish within ${formatSeconds(graceMs)}; opsmate went on without it`,
        );
      }
    } finally {
      clearTimeout(timer);
    }
  }

  run(command: string, options?: RunOptions): Promise<RunResult> {
    return this.#inner.run(command, options);
  }
  runtimeInfo(): Promise<string> {
    return this.#inner.runtimeInfo();
  }
  target(): Record<string, string> {
    return this.#inner.target();
  }
}

function formatSeconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(3))} s`;
}
