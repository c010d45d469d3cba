import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { RuntimeError } from '../../errors/opsmate-error.js';
import { withoutOwnSecrets } from '../../process/child-environment.js';
import { signalProcessGroup, type CoResult } from '../../process/child-process.js';
import type { RunOptions, RunResult } from '../contract.js';
import { MarkerScanner } from './marker-scanner.js';
import { OutputCollector } from './output-collector.js';
import { commandLine, initScript, KILL_DESCENDANTS_SCRIPT, UNIT_SEPARATOR } from './shell-scripts.js';

export const DEFAULT_COMMAND_TIMEOUT_MS = 120_000;
export const DEFAULT_START_TIMEOUT_MS = 30_000;
export const DEFAULT_OUTPUT_LIMIT_BYTES = 64 * 1024;
/** How long a timed-out command gets between SIGTERM and SIGKILL. */
export const DEFAULT_KILL_GRACE_MS = 2_000;
/** After stdout's trailer, how long to wait for stderr's end marker before giving up on it. */
const STDERR_SETTLE_MS = 1_000;
/** After the shell process exits, how long to wait for its pipes to drain. */
const PIPE_DRAIN_MS = 250;
const STARTUP_OUTPUT_LIMIT_BYTES = 64 * 1024;
/** A shell message after which the shell is not safe to keep (see where it is used). */
const POISONED_SHELL = /unexpected EOF while looking for matching `\)'/;

/** How to start the process that carries the shell: its stdin, stdout and stderr are the shell's. */
export interface ShellTransport {
  /** e.g. `['/bin/bash']`, or `['ssh', '-T', 'host', '--', 'exec /bin/sh']`. Never a shell string. */
  argv: string[];
  /** Environment of the local process. Defaults to opsmate's own; its own secrets are always taken out. */
  env?: NodeJS.ProcessEnv;
  /** Working directory of the local process. */
  cwd?: string;
}

/** How the transport process of a shell ended, as `describeExit` is told. */
export interface ShellExit {
  /** Exit status, or null when a signal ended the process. */
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** The transport's stderr, as far as it was kept. */
  stderr: string;
}

export interface ShellSessionOptions {
  /** Called at every (re)start, so a transport can pick up fresh state (a new master socket...). */
  transport: () => ShellTransport | Promise<ShellTransport>;
  /**
   * Runs a POSIX sh script out of band on the target, as `sh -c SCRIPT sh ARGS...`, beside the busy
   * shell. Used to kill a timed-out command's processes while keeping the shell and its state.
   * Without it a timeout kills the whole shell, and the next command gets a new one.
   */
  sideChannel?: (script: string, args: string[]) => Promise<CoResult>;
  /** Variables exported in the shell at every start (values are quoted, never interpreted). */
  env?: Record<string, string>;
  /** Working directory of the first shell on the target. */
  cwd?: string;
  /** Spill folder for outputs over the limit. */
  spillDir: string;
  outputLimitBytes?: number;
  defaultTimeoutMs?: number;
  startTimeoutMs?: number;
  killGraceMs?: number;
  /**
   * Explains how the transport ended when the shell did not say (e.g. ssh's 255 means the
   * connection was lost). Returns one line, or undefined for the default wording.
   */
  describeExit?: (exit: ShellExit) => string | undefined;
  /** Name for messages, e.g. `ssh runtime`. */
  label?: string;
}

interface LiveShell {
  child: ChildProcessWithoutNullStreams;
  pid: number;
  exited: boolean;
  exitCode: number | null;
  exitSignal: NodeJS.Signals | null;
  onStdout: (chunk: Buffer) => void;
  onStderr: (chunk: Buffer) => void;
  onExit: () => void;
}

type Interruption = 'total' | 'idle' | 'cancelled';

/**
 * One persistent shell driven over stdin/stdout/stderr, shared by every shell-based runtime.
 * `cd`, `export` and variables carry over between commands. Each command is framed by a fresh
 * random token, reads EOF from stdin, and reports its exact exit status; a timeout kills the
 * command's processes (and, if it must, the shell); a dead shell is replaced on the next command
 * with the last working directory and exported variables restored.
 */
export class ShellSession {
  readonly #options: ShellSessionOptions;
  #shell: LiveShell | undefined;
  #starting: Promise<LiveShell> | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  #cwd: string | undefined;
  #exports: string | undefined;
  #runCount = 0;
  /** True until a shell has started in the cwd the user chose. */
  #cwdMustExist: boolean;

  constructor(options: ShellSessionOptions) {
    this.#options = options;
    this.#cwd = options.cwd;
    this.#cwdMustExist = options.cwd !== undefined;
  }

  /** Working directory after the last command, when known. */
  get cwd(): string | undefined {
    return this.#cwd;
  }

  /** Process id of the shell on the target, when one is running. */
  get shellPid(): number | undefined {
    return this.#shell && !this.#shell.exited ? this.#shell.pid : undefined;
  }

  /** Starts the shell if none is running. Rejects with a RuntimeError when it cannot start. */
  async start(signal?: AbortSignal): Promise<void> {
    await this.#ensureShell(signal);
  }

  run(command: string, options: RunOptions = {}): Promise<RunResult> {
    const queued = this.#queue.then(() => this.#runNow(command, options));
    this.#queue = queued.catch(() => undefined);
    return queued;
  }

  /** Ends the shell: EOF first, then SIGKILL to its process group. Never rejects. */
  async close(): Promise<void> {
    const shell = this.#shell ?? (await this.#starting?.catch(() => undefined));
    this.#shell = undefined;
    if (!shell || shell.exited) return;
    shell.child.stdin.end();
    const exited = await waitFor(() => shell.exited, 1_000, shell.child);
    if (!exited) signalProcessGroup(shell.child, 'SIGKILL');
  }

  async #runNow(command: string, options: RunOptions): Promise<RunResult> {
    const startedAt = performance.now();
    if (command.includes('\0')) {
      return this.#syntheticResult(command, startedAt, {
        exitCode: 2,
        stderr: 'opsmate: the command contains a NUL byte, which a shell cannot read\n',
      });
    }
    if (options.signal?.aborted) {
      return this.#syntheticResult(command, startedAt, { cancelled: true, notice: 'command cancelled' });
    }
    const shell = await this.#ensureShell(options.signal);
    return await this.#execute(shell, command, options, startedAt);
  }

  #syntheticResult(
    command: string,
    startedAt: number,
    fields: { exitCode?: number; stderr?: string; cancelled?: boolean; notice?: string },
  ): RunResult {
    return {
      command,
      exitCode: fields.exitCode ?? null,
      stdout: '',
      stderr: fields.stderr ?? '',
      stdoutBytes: 0,
      stderrBytes: Buffer.byteLength(fields.stderr ?? ''),
      truncated: false,
      spillFiles: {},
      timedOut: false,
      cancelled: fields.cancelled ?? false,
      shellExited: false,
      durationMs: performance.now() - startedAt,
      ...(this.#cwd ? { cwd: this.#cwd } : {}),
      ...(fields.notice ? { notice: fields.notice } : {}),
    };
  }

  async #ensureShell(signal?: AbortSignal): Promise<LiveShell> {
    if (this.#shell && !this.#shell.exited) return this.#shell;
    this.#shell = undefined;
    this.#starting ??= this.#spawnShell(signal).finally(() => {
      this.#starting = undefined;
    });
    const shell = await this.#starting;
    this.#shell = shell;
    return shell;
  }

  async #spawnShell(signal?: AbortSignal): Promise<LiveShell> {
    const label = this.#options.label ?? 'shell';
    const transport = await this.#options.transport();
    const [file, ...args] = transport.argv;
    if (!file) throw new RuntimeError(`${label}: no shell command to start`);
    const readyToken = randomToken();
    const child = spawn(file, args, {
      env: withoutOwnSecrets(transport.env ?? process.env),
      cwd: transport.cwd,
      detached: true,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const shell: LiveShell = {
      child,
      pid: -1,
      exited: false,
      exitCode: null,
      exitSignal: null,
      onStdout: () => {},
      onStderr: () => {},
      onExit: () => {},
    };
    child.stdout.on('data', (chunk: Buffer) => shell.onStdout(chunk));
    child.stderr.on('data', (chunk: Buffer) => shell.onStderr(chunk));
    child.stdin.on('error', () => {});
    const startTimeoutMs = this.#options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;

    return await new Promise<LiveShell>((resolve, reject) => {
      let stdout = Buffer.alloc(0);
      let stderr = '';
      let settled = false;
      const finish = (error?: RuntimeError): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        shell.onStdout = () => {};
        shell.onStderr = () => {};
        if (error) {
          signalProcessGroup(child, 'SIGKILL');
          reject(error);
        } else resolve(shell);
      };
      const onAbort = (): void => finish(new RuntimeError(`${label}: start cancelled`));
      const timer = setTimeout(
        () =>
          finish(
            new RuntimeError(`${label}: the shell did not start within ${startTimeoutMs / 1000}s`, {
              hint: stderr.trim() ? `it said: ${lastLine(stderr)}` : undefined,
            }),
          ),
        startTimeoutMs,
      );
      signal?.addEventListener('abort', onAbort, { once: true });
      shell.onStdout = (chunk) => {
        if (stdout.length < STARTUP_OUTPUT_LIMIT_BYTES) stdout = Buffer.concat([stdout, chunk]);
        const text = stdout.toString('latin1');
        const match = new RegExp(`\\x1e${readyToken} (\\d+)\\x1e\\n`).exec(text);
        if (match) {
          shell.pid = Number(match[1]);
          this.#cwdMustExist = false;
          finish();
        }
      };
      shell.onStderr = (chunk) => {
        if (stderr.length < STARTUP_OUTPUT_LIMIT_BYTES) stderr += chunk.toString('utf8');
      };
      child.on('error', (error: NodeJS.ErrnoException) => {
        shell.exited = true;
        finish(
          new RuntimeError(`${label}: cannot start ${file}: ${error.code ?? error.message}`, {
            hint: error.code === 'ENOENT' ? `install ${file} or point opsmate at another program` : undefined,
          }),
        );
      });
      child.on('exit', (exitCode, exitSignal) => {
        shell.exited = true;
        shell.exitCode = exitCode;
        shell.exitSignal = exitSignal;
        // Let stderr drain so the message can say why the shell ended.
        setTimeout(() => {
          // The EXIT trap's end marker may follow the shell's own message: leave it out.
          const said = stderr
            .split('\n')
            .filter((line) => !line.includes('\x1e'))
            .join('\n');
          const reason =
            this.#options.describeExit?.({ exitCode, signal: exitSignal, stderr: said }) ??
            (said.trim() ? lastLine(said) : `exit status ${exitCode ?? exitSignal}`);
          finish(new RuntimeError(`${label}: the shell ended before it was ready: ${reason}`));
        }, 50);
        shell.onExit();
      });
      child.stdin.write(
        initScript({
          readyToken,
          env: this.#options.env ?? {},
          ...(this.#cwd ? { cwd: this.#cwd, cwdMustExist: this.#cwdMustExist } : {}),
          ...(this.#exports ? { restoreExports: this.#exports } : {}),
        }),
      );
    });
  }

  #execute(shell: LiveShell, command: string, options: RunOptions, startedAt: number): Promise<RunResult> {
    const token = randomToken();
    const runId = `${process.pid}-${Date.now()}-${++this.#runCount}`;
    const limit = this.#options.outputLimitBytes ?? DEFAULT_OUTPUT_LIMIT_BYTES;
    const stdout = new OutputCollector({
      limitBytes: limit,
      spillFile: join(this.#options.spillDir, `${runId}.stdout`),
    });
    const stderr = new OutputCollector({
      limitBytes: limit,
      spillFile: join(this.#options.spillDir, `${runId}.stderr`),
    });
    const stdoutScanner = new MarkerScanner(Buffer.from(`\x1e${token}>`));
    const trailerScanner = new MarkerScanner(Buffer.from(`\x1e${token}<\n`));
    const stderrScanner = new MarkerScanner(Buffer.from(`\x1e${token}<\n`));
    const timeoutMs = options.timeoutMs ?? this.#options.defaultTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
    const graceMs = this.#options.killGraceMs ?? DEFAULT_KILL_GRACE_MS;

    return new Promise<RunResult>((resolve) => {
      let stdoutPhase: 'output' | 'trailer' | 'done' = 'output';
      let stderrDone = false;
      let trailer: Buffer[] = [];
      let trailerFields: { exitCode: number; kind: string; cwd: string; exports: string } | undefined;
      let interruption: Interruption | undefined;
      let killedShell = false;
      let settled = false;
      let stderrTail = '';
      let pausedFor = 0;
      const timers = new Set<NodeJS.Timeout>();
      const later = (ms: number, action: () => void): void => {
        const timer = setTimeout(() => {
          timers.delete(timer);
          action();
        }, ms);
        timers.add(timer);
      };
      let idleTimer: NodeJS.Timeout | undefined;
      const armIdle = (): void => {
        if (options.idleTimeoutMs === undefined || interruption) return;
        if (idleTimer) clearTimeout(idleTimer);
        idleTimer = setTimeout(() => interrupt('idle'), options.idleTimeoutMs);
      };

      const emit = (stream: 'stdout' | 'stderr', data: Buffer): void => {
        if (data.length === 0) return;
        (stream === 'stdout' ? stdout : stderr).write(data);
        if (stream === 'stderr') stderrTail = (stderrTail + data.toString('utf8')).slice(-2_000);
        let pending: void | Promise<unknown> | undefined;
        try {
          pending = options.onOutput?.({ stream, data });
        } catch {
          // a display callback must not break the session
        }
        if (pending) {
          if (pausedFor++ === 0) {
            shell.child.stdout.pause();
            shell.child.stderr.pause();
          }
          void pending
            .catch(() => undefined)
            .finally(() => {
              if (--pausedFor === 0) {
                shell.child.stdout.resume();
                shell.child.stderr.resume();
              }
            });
        }
      };

      const onTrailerBytes = (chunk: Buffer): void => {
        const scan = trailerScanner.feed(chunk);
        trailer.push(scan.output);
        if (!scan.found) return;
        stdoutPhase = 'done';
        trailerFields = parseTrailer(Buffer.concat(trailer).toString('utf8'));
        trailer = [];
        if (!stderrDone) later(STDERR_SETTLE_MS, () => complete(true));
        complete();
      };

      shell.onStdout = (chunk) => {
        if (stdoutPhase === 'done') return;
        armIdle();
        if (stdoutPhase === 'trailer') {
          onTrailerBytes(chunk);
          return;
        }
        const scan = stdoutScanner.feed(chunk);
        emit('stdout', scan.output);
        if (scan.found) {
          stdoutPhase = 'trailer';
          onTrailerBytes(scan.rest);
        }
      };
      shell.onStderr = (chunk) => {
        if (stderrDone) return;
        armIdle();
        const scan = stderrScanner.feed(chunk);
        emit('stderr', scan.output);
        if (scan.found) {
          stderrDone = true;
          complete();
        }
      };
      shell.onExit = () => {
        // Pipes may still hold output; give them a moment, unless a background job keeps them open.
        later(PIPE_DRAIN_MS, () => complete(true));
      };

      const interrupt = (kind: Interruption): void => {
        if (interruption || settled) return;
        interruption = kind;
        void this.#stopCommand(shell, graceMs, () => settled).then((killed) => {
          killedShell = killed;
          if (killed) later(PIPE_DRAIN_MS, () => complete(true));
        });
      };
      later(timeoutMs, () => interrupt('total'));
      armIdle();
      const onAbort = (): void => interrupt('cancelled');
      options.signal?.addEventListener('abort', onAbort, { once: true });

      const complete = (force = false): void => {
        if (settled) return;
        const framed = stdoutPhase === 'done' && (stderrDone || force);
        const ended = force && (shell.exited || killedShell);
        if (!framed && !ended) return;
        settled = true;
        for (const timer of timers) clearTimeout(timer);
        if (idleTimer) clearTimeout(idleTimer);
        options.signal?.removeEventListener('abort', onAbort);
        shell.onStdout = () => {};
        shell.onStderr = () => {};
        shell.onExit = () => {};
        if (stdoutPhase === 'output') emit('stdout', stdoutScanner.flush());
        if (!stderrDone) emit('stderr', stderrScanner.flush());

        if (trailerFields) {
          this.#cwd = trailerFields.cwd || this.#cwd;
          if (trailerFields.exports) this.#exports = trailerFields.exports;
        }
        const shellExited = shell.exited || trailerFields?.kind === 'exit' || killedShell;
        if (shellExited && !shell.exited) signalProcessGroup(shell.child, 'SIGKILL');
        if (shellExited) shell.exited = true;
        else if (POISONED_SHELL.test(stderrTail)) {
          // bash 5.2 corrupts its heap parsing an unterminated $( in eval and crashes a command
          // later; replace it now, while its state is still known.
          signalProcessGroup(shell.child, 'SIGKILL');
          shell.exited = true;
        }
        const exitCode = trailerFields?.exitCode ?? (killedShell ? null : shell.exitCode);
        const out = stdout.finish();
        const err = stderr.finish();
        const notice = this.#notice({
          interruption,
          timeoutMs,
          idleTimeoutMs: options.idleTimeoutMs,
          shellExited,
          killedShell,
          exitedByItself: trailerFields?.kind === 'exit',
          exitCode,
          shell,
          stderrTail,
        });
        resolve({
          command,
          exitCode,
          stdout: out.text,
          stderr: err.text,
          stdoutBytes: out.bytes,
          stderrBytes: err.bytes,
          truncated: out.truncated || err.truncated,
          spillFiles: {
            ...(out.spillFile ? { stdout: out.spillFile } : {}),
            ...(err.spillFile ? { stderr: err.spillFile } : {}),
          },
          timedOut: interruption === 'total' || interruption === 'idle',
          ...(interruption === 'total' || interruption === 'idle' ? { timeoutKind: interruption } : {}),
          cancelled: interruption === 'cancelled',
          shellExited,
          ...(shellExited
            ? {
                shellExitReason: killedShell
                  ? ('killed' as const)
                  : trailerFields?.kind === 'exit'
                    ? ('exit' as const)
                    : ('ended' as const),
              }
            : {}),
          durationMs: performance.now() - startedAt,
          ...(this.#cwd ? { cwd: this.#cwd } : {}),
          ...(notice ? { notice } : {}),
        });
      };

      if (shell.exited) {
        later(0, () => complete(true));
        return;
      }
      shell.child.stdin.write(commandLine(command, token));
    });
  }

  /**
   * Stops a running command: SIGTERM to the shell's descendants, SIGKILL after the grace period,
   * and if the shell itself is still busy (a loop in a builtin), the shell. Resolves true when the
   * shell had to be killed.
   */
  async #stopCommand(shell: LiveShell, graceMs: number, isSettled: () => boolean): Promise<boolean> {
    const sideChannel = this.#options.sideChannel;
    if (sideChannel && shell.pid > 0) {
      await sideChannel(KILL_DESCENDANTS_SCRIPT, [String(shell.pid), 'TERM']).catch(() => undefined);
      if (await waitFor(isSettled, graceMs)) return false;
      await sideChannel(KILL_DESCENDANTS_SCRIPT, [String(shell.pid), 'KILL']).catch(() => undefined);
      if (await waitFor(isSettled, 1_000)) return false;
      await sideChannel('kill -s KILL "$1" 2>/dev/null; exit 0', [String(shell.pid)]).catch(() => undefined);
    }
    if (isSettled()) return false;
    signalProcessGroup(shell.child, 'SIGKILL');
    return true;
  }

  #notice(facts: {
    interruption: Interruption | undefined;
    timeoutMs: number;
    idleTimeoutMs: number | undefined;
    shellExited: boolean;
    killedShell: boolean;
    exitedByItself: boolean;
    exitCode: number | null;
    shell: LiveShell;
    stderrTail: string;
  }): string | undefined {
    const parts: string[] = [];
    if (facts.interruption === 'total') {
      parts.push(
        `timed out after ${formatSeconds(facts.timeoutMs)}; the command and its child processes were killed`,
      );
    } else if (facts.interruption === 'idle') {
      parts.push(
        `printed nothing for ${formatSeconds(facts.idleTimeoutMs ?? 0)}; the command and its child processes were killed`,
      );
    } else if (facts.interruption === 'cancelled') {
      parts.push('cancelled; the command and its child processes were killed');
    }
    if (facts.shellExited) {
      const where = this.#cwd ? ` in ${this.#cwd}` : '';
      if (facts.killedShell) {
        parts.push(`the shell had to be killed; the next command starts a new one${where}`);
      } else if (facts.exitedByItself) {
        parts.push(
          `the shell exited with status ${facts.exitCode}; the next command starts a new one${where}`,
        );
      } else {
        const described = this.#options.describeExit?.({
          exitCode: facts.shell.exitCode,
          signal: facts.shell.exitSignal,
          stderr: facts.stderrTail,
        });
        parts.push(
          `${described ?? `the shell ended (${facts.shell.exitSignal ?? `status ${facts.shell.exitCode}`})`}; the next command starts a new one${where}`,
        );
      }
    }
    return parts.length > 0 ? parts.join('; ') : undefined;
  }
}

function parseTrailer(text: string): { exitCode: number; kind: string; cwd: string; exports: string } {
  const [status = '', kind = '', cwd = '', ...rest] = text.split(UNIT_SEPARATOR);
  const exitCode = Number.parseInt(status, 10);
  return { exitCode: Number.isNaN(exitCode) ? -1 : exitCode, kind, cwd, exports: rest.join(UNIT_SEPARATOR) };
}

function randomToken(): string {
  return `OPSMATE${randomBytes(12).toString('hex')}`;
}

function lastLine(text: string): string {
  const lines = text.trim().split('\n');
  return (lines[lines.length - 1] ?? '').trim();
}

function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${(ms / 1000).toFixed(1)}s`;
}

/** Polls `condition` until true or `ms` passes; resolves early when `child` exits, if given. */
async function waitFor(
  condition: () => boolean,
  ms: number,
  child?: { once: (e: 'exit', f: () => void) => unknown },
): Promise<boolean> {
  if (condition()) return true;
  return await new Promise<boolean>((resolve) => {
    const started = Date.now();
    const tick = setInterval(() => {
      if (condition() || Date.now() - started >= ms) {
        clearInterval(tick);
        resolve(condition());
      }
    }, 20);
    child?.once('exit', () => {
      clearInterval(tick);
      resolve(true);
    });
  });
}
