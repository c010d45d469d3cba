import { join } from 'node:path';
import type { OutputChunk, RunOptions, RunResult } from '../contract.js';
import { OutputCollector } from '../shell-session/output-collector.js';
import { formatDuration, type Interruption } from './run-limits.js';

let builderCount = 0;

export interface RunResultBuilderOptions {
  command: string;
  /** `RuntimeContext.spillDir`: where a stream that outgrows the limit is written in full. */
  spillDir: string;
  /** `RuntimeContext.outputLimitBytes`: bytes of each stream kept, half head and half tail. */
  outputLimitBytes: number;
  /** The caller's live-output callback; its promise is awaited by {@link RunResultBuilder.write}. */
  onOutput?: RunOptions['onOutput'];
}

/** How a command ended, for {@link RunResultBuilder.finish}. */
export interface RunEnding {
  /** The command's status: 0 for success; `null` when it had none (stopped, never started). */
  exitCode: number | null;
  interruption?: Interruption;
  /** The limits in force, for the notice of a timeout. */
  timeoutMs?: number;
  idleTimeoutMs?: number;
  /** Extra words for the notice, e.g. "the connection was reset". */
  notice?: string;
  /** The session ended during the command; the next one opens a new one. */
  sessionEnded?: boolean;
  cwd?: string;
}

/**
 * Builds a {@link RunResult} the way the shell engine does, for runtimes that are not shells:
 * each stream keeps its head and tail (`outputLimitBytes`), is spilled in full to a file under
 * `spillDir` once it outgrows that, and is passed to `onOutput` as it comes (with backpressure).
 */
export class RunResultBuilder {
  readonly #options: RunResultBuilderOptions;
  readonly #startedAt = performance.now();
  readonly #stdout: OutputCollector;
  readonly #stderr: OutputCollector;

  constructor(options: RunResultBuilderOptions) {
    this.#options = options;
    const runId = `${process.pid}-${Date.now()}-r${++builderCount}`;
    this.#stdout = new OutputCollector({
      limitBytes: options.outputLimitBytes,
      spillFile: join(options.spillDir, `${runId}.stdout`),
    });
    this.#stderr = new OutputCollector({
      limitBytes: options.outputLimitBytes,
      spillFile: join(options.spillDir, `${runId}.stderr`),
    });
  }

  /**
   * Adds output to a stream. Text is encoded as UTF-8. Resolves when `onOutput` has taken it
   * (await it to apply backpressure); a throwing `onOutput` is ignored.
   */
  async write(stream: OutputChunk['stream'], data: string | Uint8Array): Promise<void> {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data);
    if (bytes.length === 0) return;
    (stream === 'stdout' ? this.#stdout : this.#stderr).write(bytes);
    try {
      await this.#options.onOutput?.({ stream, data: bytes });
    } catch {
      // a display callback must not break the command
    }
  }

  /** The result. Call once, after the last write. */
  finish(ending: RunEnding): RunResult {
    const out = this.#stdout.finish();
    const err = this.#stderr.finish();
    const timedOut = ending.interruption === 'total' || ending.interruption === 'idle';
    const notice = [interruptionNotice(ending), ending.notice].filter(Boolean).join('; ');
    return {
      command: this.#options.command,
      exitCode: ending.exitCode,
      stdout: out.text,
      stderr: err.text,
      stdoutBytes: out.bytes,
      stderrBytes: err.bytes,
      truncated: out.truncated || err.truncated,
      spillFiles: {
        ...(out.spillFile ? { stdout: out.spillFile } : {}),
        ...(err.spillFile ? { stderr: err.spillFile } : {}),
      },
      timedOut,
      ...(timedOut ? { timeoutKind: ending.interruption as 'total' | 'idle' } : {}),
      cancelled: ending.interruption === 'cancelled',
      shellExited: ending.sessionEnded ?? false,
      ...(ending.sessionEnded ? { shellExitReason: 'ended' as const } : {}),
      durationMs: performance.now() - this.#startedAt,
      ...(ending.cwd !== undefined ? { cwd: ending.cwd } : {}),
      ...(notice ? { notice } : {}),
    };
  }
}

function interruptionNotice(ending: RunEnding): string | undefined {
  switch (ending.interruption) {
    case 'total':
      return `timed out after ${formatDuration(ending.timeoutMs ?? 0)}; the command was stopped`;
    case 'idle':
      return `printed nothing for ${formatDuration(ending.idleTimeoutMs ?? 0)}; the command was stopped`;
    case 'cancelled':
      return 'cancelled; the command was stopped';
    default:
      return undefined;
  }
}
