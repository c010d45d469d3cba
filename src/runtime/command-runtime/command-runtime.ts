import type {
  CommandLanguage,
  OutputChunk,
  Runtime,
  RunOptions,
  RunResult,
  RuntimeContext,
} from '../contract.js';
import { runWithLimits } from './run-limits.js';
import { RunResultBuilder } from './run-result-builder.js';
import { SerialQueue } from './serial-queue.js';

/** Default limit for one command of a {@link CommandRuntime}, as for shell runtimes. */
export const DEFAULT_COMMAND_RUNTIME_TIMEOUT_MS = 120_000;

/** What {@link CommandRuntime.execute} gets for one command. */
export interface CommandExecution {
  /** Aborted when the command must stop: timeout, idle timeout or the caller's cancel. */
  signal: AbortSignal;
  /** Adds output; await it (backpressure). Every write also resets the idle timeout. */
  write(stream: OutputChunk['stream'], data: string | Uint8Array): Promise<void>;
}

/** What {@link CommandRuntime.execute} reports about a command that ran. */
export interface CommandOutcome {
  /** 0 for success, non-zero for failure (1 for an ordinary error). */
  exitCode: number;
  /** One line for the user and the model when something unusual happened. */
  notice?: string;
}

export interface CommandRuntimeOptions {
  name: string;
  context: RuntimeContext;
  language: CommandLanguage;
  /** Default for `RunOptions.timeoutMs`. */
  defaultTimeoutMs?: number;
  /** How long a stopped command may take to settle before the session is reset. */
  stopGraceMs?: number;
}

/**
 * Base class for runtimes that are not shells (a database client, an HTTP API...). It supplies
 * the Runtime contract around one method, {@link execute}: calls are serialised, `connect()` runs
 * before the first command, a NUL byte in the command is refused, timeouts, idle timeouts and
 * cancellation abort `execute`'s signal, and output is kept, cut and spilled exactly as the shell
 * engine does. A command that does not stop within the grace period gets its session reset
 * ({@link resetSession}), and the result says so.
 */
export abstract class CommandRuntime implements Runtime {
  readonly name: string;
  readonly language: CommandLanguage;
  protected readonly context: RuntimeContext;
  readonly #options: CommandRuntimeOptions;
  readonly #queue = new SerialQueue();
  #connected = false;

  constructor(options: CommandRuntimeOptions) {
    this.name = options.name;
    this.language = options.language;
    this.context = options.context;
    this.#options = options;
  }

  /** Opens the session (a connection...). Reject with a `RuntimeError` saying what to fix. */
  protected abstract open(signal?: AbortSignal): Promise<void>;

  /** Closes what `open` opened. Should not reject. */
  protected abstract close(): Promise<void>;

  /**
   * Runs one command: writes its output through `execution.write` and resolves with its status.
   * A failing command is a result (`exitCode: 1`, the message on stderr), not a rejection.
   * Reject with a `RuntimeError` only when nothing can run at all. Must stop soon after
   * `execution.signal` aborts.
   */
  protected abstract execute(command: string, execution: CommandExecution): Promise<CommandOutcome>;

  /** Called when a stopped command did not settle in time: drop the session; the next run reopens it. */
  protected async resetSession(): Promise<void> {
    this.#connected = false;
    await this.close().catch(() => undefined);
  }

  abstract runtimeInfo(): Promise<string>;
  abstract target(): Record<string, string>;

  async connect(options: { signal?: AbortSignal } = {}): Promise<void> {
    await this.#queue.run(() => this.#ensureOpen(options.signal));
  }

  async disconnect(): Promise<void> {
    await this.#queue.run(async () => {
      if (!this.#connected) return;
      this.#connected = false;
      await this.close().catch(() => undefined);
    });
  }

  run(command: string, options: RunOptions = {}): Promise<RunResult> {
    return this.#queue.run(() => this.#run(command, options));
  }

  async #ensureOpen(signal?: AbortSignal): Promise<void> {
    if (this.#connected) return;
    await this.open(signal);
    this.#connected = true;
  }

  async #run(command: string, options: RunOptions): Promise<RunResult> {
    const builder = new RunResultBuilder({
      command,
      spillDir: this.context.spillDir,
      outputLimitBytes: this.context.outputLimitBytes,
      ...(options.onOutput ? { onOutput: options.onOutput } : {}),
    });
    if (command.includes('\0')) {
      await builder.write(
        'stderr',
        'opsmate: the command contains a NUL byte, which cannot be sent; nothing ran\n',
      );
      return builder.finish({ exitCode: 2, notice: 'not run: the command contains a NUL byte' });
    }
    await this.#ensureOpen(options.signal);
    const timeoutMs =
      options.timeoutMs ?? this.#options.defaultTimeoutMs ?? DEFAULT_COMMAND_RUNTIME_TIMEOUT_MS;
    const outcome = await runWithLimits(
      {
        timeoutMs,
        ...(options.idleTimeoutMs !== undefined ? { idleTimeoutMs: options.idleTimeoutMs } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
        ...(this.#options.stopGraceMs !== undefined ? { stopGraceMs: this.#options.stopGraceMs } : {}),
      },
      (control) =>
        this.execute(command, {
          signal: control.signal,
          write: (stream, data) => {
            control.activity();
            return builder.write(stream, data);
          },
        }),
    );
    const limits = {
      timeoutMs,
      ...(options.idleTimeoutMs !== undefined ? { idleTimeoutMs: options.idleTimeoutMs } : {}),
    };
    if (!outcome.settled) {
      await this.resetSession();
      return builder.finish({
        exitCode: null,
        interruption: outcome.interruption,
        ...limits,
        notice: 'it did not stop in time, so the session was closed; the next command opens a new one',
        sessionEnded: true,
      });
    }
    if ('error' in outcome) {
      if (!outcome.interruption) throw outcome.error;
      // Stopping made the command fail, as expected: the interruption is the news.
      return builder.finish({ exitCode: null, interruption: outcome.interruption, ...limits });
    }
    return builder.finish({
      exitCode: outcome.interruption ? null : outcome.value.exitCode,
      ...(outcome.interruption ? { interruption: outcome.interruption } : {}),
      ...limits,
      ...(outcome.value.notice ? { notice: outcome.value.notice } : {}),
    });
  }
}
