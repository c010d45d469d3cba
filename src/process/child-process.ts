import { spawn, type ChildProcess } from 'node:child_process';
import { withoutOwnSecrets } from './child-environment.js';

/** Default grace between SIGTERM and SIGKILL when stopping a process group. */
export const DEFAULT_KILL_GRACE_MS = 2_000;

/** Options for {@link co}. */
export interface CoOptions {
  /** Kill the process group after this many milliseconds. Default 30 000. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /**
   * Environment of the child. Defaults to this process's environment. Either way opsmate's own
   * secrets (model API keys...) are taken out: see `withoutOwnSecrets`.
   */
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Written to the child's stdin, which is then closed. Without it stdin is closed at once. */
  input?: string | Uint8Array;
  /** Bytes of each stream kept; the rest is dropped from the middle. Default 1 MiB. */
  maxBufferBytes?: number;
  /**
   * Kill the child's whole process group if opsmate itself dies, even by SIGKILL (the OOM killer,
   * `kill -9`): for work that must not finish unsupervised, like an npm install opsmate would
   * have rolled back. See {@link DIE_WITH_PARENT_SCRIPT}.
   */
  dieWithParent?: boolean;
}

/**
 * Runs "$@" with a watcher on fd 3, one end of a socket pair whose other end only opsmate holds:
 * when opsmate dies, however it dies, the kernel closes that end, the watcher reads end of file
 * and kills the process group (the program and everything it started). Node cannot ask the
 * kernel for a parent-death signal, and a process group alone does not help when only opsmate is
 * killed.
 */
export const DIE_WITH_PARENT_SCRIPT = `"$@" 3<&- &
program=$!
{ read -r _ <&3; kill -s KILL 0; } &
watcher=$!
exec 3<&-
wait "$program"
status=$?
kill "$watcher" 2>/dev/null
exit "$status"`;

/** What {@link co} saw. It never rejects for a non-zero exit. */
export interface CoResult {
  /** Exit status, or null when the process was ended by a signal or never started. */
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  cancelled: boolean;
  /** Set when the program could not be started at all (ENOENT, EACCES). */
  spawnError?: NodeJS.ErrnoException;
}

/**
 * Runs one program from an argv array (never through a shell) in its own process group, and
 * returns its exit code and output. On timeout or abort the whole group gets SIGTERM, then SIGKILL
 * after a grace period.
 */
export function co(argv: readonly string[], options: CoOptions = {}): Promise<CoResult> {
  if (argv[0] === undefined) throw new TypeError('co() needs a program to run');
  const [file = '', ...args] = options.dieWithParent
    ? ['/bin/sh', '-c', DIE_WITH_PARENT_SCRIPT, 'sh', ...argv]
    : argv;
  const maxBufferBytes = options.maxBufferBytes ?? 1024 * 1024;
  return new Promise((resolve) => {
    let child: ChildProcess;
    const stdout = new BoundedBuffer(maxBufferBytes);
    const stderr = new BoundedBuffer(maxBufferBytes);
    let timedOut = false;
    let cancelled = false;
    let spawnError: NodeJS.ErrnoException | undefined;
    let stopTimer: (() => void) | undefined;
    try {
      child = spawn(file, args, {
        env: withoutOwnSecrets(options.env ?? process.env),
        cwd: options.cwd,
        detached: true,
        stdio: options.dieWithParent ? ['pipe', 'pipe', 'pipe', 'pipe'] : ['pipe', 'pipe', 'pipe'],
      });
    } catch (error) {
      resolve(failedToStart(error as NodeJS.ErrnoException));
      return;
    }
    const onAbort = (): void => {
      cancelled = true;
      stopTimer = stopProcessGroup(child);
    };
    const timer = setTimeout(() => {
      timedOut = true;
      stopTimer = stopProcessGroup(child);
    }, options.timeoutMs ?? 30_000);
    if (options.signal?.aborted) onAbort();
    else options.signal?.addEventListener('abort', onAbort, { once: true });

    child.stdout?.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.stdin?.on('error', () => {});
    child.on('error', (error: NodeJS.ErrnoException) => {
      spawnError = error;
    });
    if (options.input !== undefined) child.stdin?.end(options.input);
    else child.stdin?.end();

    child.stdio[3]?.on('error', () => {});
    child.on('close', (exitCode, signal) => {
      child.stdio[3]?.destroy();
      clearTimeout(timer);
      stopTimer?.();
      options.signal?.removeEventListener('abort', onAbort);
      if (spawnError && exitCode === null && signal === null) {
        resolve(failedToStart(spawnError));
        return;
      }
      resolve({
        exitCode,
        signal,
        stdout: stdout.text(),
        stderr: stderr.text(),
        timedOut,
        cancelled,
        ...(spawnError ? { spawnError } : {}),
      });
    });
  });
}

function failedToStart(error: NodeJS.ErrnoException): CoResult {
  return {
    exitCode: null,
    signal: null,
    stdout: '',
    stderr: error.message,
    timedOut: false,
    cancelled: false,
    spawnError: error,
  };
}

/**
 * Sends SIGTERM to the child's process group (it must have been spawned `detached`), then SIGKILL
 * after `graceMs` unless it has exited. Returns a function that cancels the pending SIGKILL.
 */
export function stopProcessGroup(child: ChildProcess, graceMs = DEFAULT_KILL_GRACE_MS): () => void {
  signalProcessGroup(child, 'SIGTERM');
  const timer = setTimeout(() => signalProcessGroup(child, 'SIGKILL'), graceMs);
  timer.unref();
  const cancel = (): void => clearTimeout(timer);
  child.once('exit', cancel);
  return cancel;
}

/** Signals the whole process group led by `child`; falls back to the child alone. Never throws. */
export function signalProcessGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {
      // already gone
    }
  }
}

/** Keeps the first and last halves of a stream up to a byte budget, and notes what was dropped. */
class BoundedBuffer {
  readonly #limit: number;
  #head: Buffer[] = [];
  #headBytes = 0;
  #tail: Buffer[] = [];
  #tailBytes = 0;
  #dropped = 0;

  constructor(limit: number) {
    this.#limit = limit;
  }

  push(chunk: Buffer): void {
    const half = Math.floor(this.#limit / 2);
    if (this.#headBytes < half) {
      const take = chunk.subarray(0, half - this.#headBytes);
      this.#head.push(take);
      this.#headBytes += take.length;
      chunk = chunk.subarray(take.length);
      if (chunk.length === 0) return;
    }
    this.#tail.push(chunk);
    this.#tailBytes += chunk.length;
    while (this.#tailBytes > this.#limit - half && this.#tail.length > 0) {
      const first = this.#tail[0]!;
      const excess = this.#tailBytes - (this.#limit - half);
      if (first.length <= excess) {
        this.#tail.shift();
        this.#tailBytes -= first.length;
        this.#dropped += first.length;
      } else {
        this.#tail[0] = first.subarray(excess);
        this.#tailBytes -= excess;
        this.#dropped += excess;
      }
    }
  }

  text(): string {
    const head = Buffer.concat(this.#head).toString('utf8');
    const tail = Buffer.concat(this.#tail).toString('utf8');
    if (this.#dropped === 0) return head + tail;
    return `${head}\n[... ${this.#dropped} bytes omitted ...]\n${tail}`;
  }
}
