import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { RuntimeError } from '../../errors/opsmate-error.js';
import { withoutOwnSecrets } from '../../process/child-environment.js';
import { signalProcessGroup, type CoResult } from '../../process/child-process.js';
import type { BackgroundOutput, RunOptions, RunResult } from '../contract.js';
import { FrameScanner, type FrameSpec, type ScanEvent } from './frame-scanner.js';
import { OutputCollector } from './output-collector.js';
import {
  commandInput,
  initScript,
  prestartedCommandInput,
  prestartLine,
  PROCESS_STATE_SCRIPT,
  STOP_DESCENDANTS_SCRIPT,
  supervisorLine,
  type ScriptPassing,
} from './shell-scripts.js';
import {
  commandShellAssignments,
  parseStateDump,
  type ShellFlavor,
  type ShellVariables,
} from './shell-state.js';

export const DEFAULT_COMMAND_TIMEOUT_MS = 120_000;
export const DEFAULT_START_TIMEOUT_MS = 30_000;
export const DEFAULT_OUTPUT_LIMIT_BYTES = 64 * 1024;
/** After a stop, how long the session shell gets to report the command's end before it is replaced. */
const STOP_SETTLE_MS = 1_500;
/** How long the stop script may take on the target before the transport itself is killed. */
const STOP_SCRIPT_TIMEOUT_MS = 3_000;
/** A shell that ended while starting: how long its stderr may take to end, for the message. */
const STARTUP_STDERR_DRAIN_MS = 2_000;

/** Calls `then` once, when `stream` has ended or after `limitMs`, whichever comes first. */
function whenDrained(
  stream: NodeJS.ReadableStream & { readableEnded?: boolean },
  limitMs: number,
  then: () => void,
): void {
  let done = false;
  const once = (): void => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    then();
  };
  const timer = setTimeout(once, limitMs);
  if (stream.readableEnded) {
    setImmediate(once);
    return;
  }
  stream.once('end', once);
  stream.once('close', once);
}

/** After stdout's trailer, how long to wait for stderr's end frame before giving up on it. */
const STDERR_SETTLE_MS = 1_000;
/** After the session shell ended, how long to wait for its pipes to drain. */
const PIPE_DRAIN_MS = 250;
/** After the state frame, how long without the exit frame before the session shell is checked. */
const WEDGE_CHECK_MS = 1_000;
const STARTUP_OUTPUT_LIMIT_BYTES = 64 * 1024;
/** Largest state dump accepted; a bigger one (a huge exported variable) keeps the previous state. */
const MAX_STATE_BYTES = 4 * 1024 * 1024;
/**
 * The largest value carried to later commands. Every command's state is dumped, sent and parsed,
 * so a 3.5 MB variable made each later command take 0.3 to 0.5 s; a bigger one is dropped, and
 * the notice says so (big data belongs in a file).
 */
const MAX_CARRIED_VALUE_BYTES = 1024 * 1024;
/** Output printed between commands by background jobs, kept per stream for the next result. */
const BACKGROUND_LIMIT_BYTES = 16 * 1024;

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
   * Runs a POSIX sh script out of band on the target, as `sh -c SCRIPT sh ARGS...`, beside the
   * session shell. Used to stop a timed-out or cancelled command's processes while keeping the
   * shell, and to check on a shell that stopped answering. Without it a timeout kills the whole
   * transport, and the next command gets a new shell.
   */
  sideChannel?: (script: string, args: string[]) => Promise<CoResult>;
  /** Variables exported in the shell at every start (values are quoted, never interpreted). */
  env?: Record<string, string>;
  /** Working directory of the first shell on the target. */
  cwd?: string;
  /** Spill folder for outputs over the limit. */
  spillDir: string;
  outputLimitBytes?: number;
  /** Cap of one spill file; 0 for none. See OutputCollectorOptions.spillLimitBytes. */
  spillLimitBytes?: number;
  defaultTimeoutMs?: number;
  startTimeoutMs?: number;
  /**
   * Explains how the transport ended when the shell did not say (e.g. ssh's 255 means the
   * connection was lost). Returns one line, or undefined for the default wording.
   */
  describeExit?: (exit: ShellExit) => string | undefined;
  /** Name for messages, e.g. `ssh runtime`. */
  label?: string;
  /**
   * Also keep each command's time limit on the target itself, by a watcher started with the
   * command's shell (see shell-scripts.ts, `DEADLINE_WATCH_SCRIPT`), so the limit holds when the
   * side channel is slow to connect or cannot reach the target. Default true; a transport whose side channel is a
   * process of this machine may turn it off (the local runtime).
   */
  inBandDeadline?: boolean;
}

/**
 * How long after its limit the watcher on the target stops a command: opsmate's own stop through
 * the side channel comes first wherever that is quick, and the watcher only where it is not.
 */
export const IN_BAND_DEADLINE_MARGIN_MS = 200;

/** What the session knows of a shell's state: its variables and working directory. */
interface ShellState {
  variables: ShellVariables;
  /** The working directory, decoded as UTF-8. */
  cwd: string | undefined;
  /** The same as the shell's bytes (latin1), for `cd` back into it. */
  rawCwd: string | undefined;
  /** Background processes that commands left running, as far as the last report knew. */
  backgroundPids: number[];
}

interface LiveShell {
  child: ChildProcessWithoutNullStreams;
  /** The session shell's pid on the target. */
  pid: number;
  flavor: ShellFlavor;
  /** How it hands each command's script to the command's shell. */
  passing: ScriptPassing;
  /**
   * Each command's shell is started ahead, after the previous command ended, and waits for its
   * script (bash 4.2+; see prestartedCommandInput): the exec is off the round trip.
   */
  prestart: boolean;
  /**
   * With `prestart` the session shell stays in its first directory; this is where the last
   * command started, where the next one goes when a command's own directory is gone.
   */
  startedIn?: { rawCwd: string | undefined; cwd: string | undefined };
  /** With `prestart`, the command shell waiting for its script: its run marker and exit token. */
  next?: { runMarker: string; token: string };
  /** Token of the supervisor's frames. */
  supervisorToken: string;
  /** The transport process exited. */
  exited: boolean;
  exitCode: number | null;
  exitSignal: NodeJS.Signals | null;
  /** The session shell is gone (the supervisor said so, or the transport ended). */
  ended: boolean;
  /** State of the session shell itself, as the next command line finds it. */
  state: ShellState;
  /** Between commands: scans stderr for the supervisor's frame; stdout is all background output. */
  idleStderr: FrameScanner;
  onStdout: (chunk: Buffer) => void;
  onStderr: (chunk: Buffer) => void;
  onEnd: () => void;
  /** Last bytes of stderr, for messages about how the shell ended. */
  stderrTail: string;
}

type Interruption = 'total' | 'idle' | 'cancelled';

/**
 * One persistent shell driven over stdin/stdout/stderr, shared by every shell-based runtime.
 * Each command runs in a fresh subshell of the session shell (see shell-scripts.ts), so `cd` and
 * variables carry over, reported back as data, while nothing a command does can change how the
 * next one is framed. A timeout or cancel stops the command's whole process tree before killing
 * it, so nothing of it runs afterwards; a dead shell is replaced with the state restored.
 */
export class ShellSession {
  readonly #options: ShellSessionOptions;
  #shell: LiveShell | undefined;
  #starting: Promise<LiveShell> | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  /** The state the next command should see: that of the last command that completed. */
  #state: ShellState | undefined;
  #runCount = 0;
  /** Put in every command's environment with its number, to find its processes (see commandInput). */
  readonly #sessionMarker = randomBytes(6).toString('hex');
  /** True until a shell has started in the cwd the user chose. */
  #cwdMustExist: boolean;
  #background = { stdout: new BoundedText(), stderr: new BoundedText() };
  /** Kills sent through the side channel and not yet answered; close() waits for them. */
  readonly #sideKills = new Set<Promise<unknown>>();

  constructor(options: ShellSessionOptions) {
    this.#options = options;
    this.#cwdMustExist = options.cwd !== undefined;
  }

  /** Working directory after the last command, when known. */
  get cwd(): string | undefined {
    return this.#state?.cwd ?? this.#options.cwd;
  }

  /** Process id of the session shell on the target, when one is running. */
  get shellPid(): number | undefined {
    return this.#shell && !this.#shell.ended ? this.#shell.pid : undefined;
  }

  /** Which dump format the running shell speaks (`bash` when it is bash), when one is running. */
  get shellFlavor(): ShellFlavor | undefined {
    return this.#shell && !this.#shell.ended ? this.#shell.flavor : undefined;
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
    // The shell ends because we close it: what it prints now (the command shell started ahead
    // reading EOF, its death frame) must not set off the idle handlers, which would kill it through
    // the side channel, a new connection that would outlive close().
    shell.onStdout = () => {};
    shell.onStderr = () => {};
    shell.onEnd = () => {};
    shell.child.stdin.end();
    const exited = await waitFor(() => shell.exited, 1_000, shell.child);
    if (!exited) signalProcessGroup(shell.child, 'SIGKILL');
    await Promise.all(this.#sideKills);
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
    const cwd = this.cwd;
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
      ...(cwd ? { cwd } : {}),
      ...(fields.notice ? { notice: fields.notice } : {}),
    };
  }

  async #ensureShell(signal?: AbortSignal): Promise<LiveShell> {
    if (this.#shell && !this.#shell.ended) return this.#shell;
    if (this.#shell) this.#dropShell(this.#shell);
    this.#shell = undefined;
    this.#starting ??= this.#spawnShell(signal).finally(() => {
      this.#starting = undefined;
    });
    const shell = await this.#starting;
    this.#shell = shell;
    return shell;
  }

  /** Forgets a dead shell, killing what is left of its transport. */
  #dropShell(shell: LiveShell): void {
    if (!shell.exited) signalProcessGroup(shell.child, 'SIGKILL');
    shell.onStdout = () => {};
    shell.onStderr = () => {};
  }

  async #spawnShell(signal?: AbortSignal): Promise<LiveShell> {
    const label = this.#options.label ?? 'shell';
    const transport = await this.#options.transport();
    const [file, ...args] = transport.argv;
    if (!file) throw new RuntimeError(`${label}: no shell command to start`);
    const supervisorToken = randomToken();
    const readyToken = randomToken();
    const baseStateToken = randomToken();
    const child = spawn(file, args, {
      env: withoutOwnSecrets(transport.env ?? process.env),
      cwd: transport.cwd,
      detached: true,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const shell: LiveShell = {
      child,
      pid: -1,
      flavor: 'posix',
      passing: { kind: 'environment' },
      prestart: false,
      supervisorToken,
      exited: false,
      exitCode: null,
      exitSignal: null,
      ended: false,
      state: { variables: new Map(), cwd: undefined, rawCwd: undefined, backgroundPids: [] },
      idleStderr: new FrameScanner([deathFrame(supervisorToken)]),
      onStdout: () => {},
      onStderr: () => {},
      onEnd: () => {},
      stderrTail: '',
    };
    const markEnded = (): void => {
      if (shell.ended) return;
      shell.ended = true;
      shell.onEnd();
    };
    child.stdout.on('data', (chunk: Buffer) => shell.onStdout(chunk));
    child.stderr.on('data', (chunk: Buffer) => {
      shell.stderrTail = (shell.stderrTail + chunk.toString('utf8')).slice(-2_000);
      shell.onStderr(chunk);
    });
    child.stdin.on('error', () => {});
    child.on('exit', (exitCode, exitSignal) => {
      shell.exited = true;
      shell.exitCode = exitCode;
      shell.exitSignal = exitSignal;
      markEnded();
    });
    const startTimeoutMs = this.#options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;

    await new Promise<void>((resolve, reject) => {
      let stderr = '';
      let phase: 'supervisor' | 'init' = 'supervisor';
      let settled = false;
      let spawnFailure: RuntimeError | undefined;
      let baseDump: Buffer | undefined;
      const stdoutFrames = new FrameScanner([
        {
          name: 'up',
          start: frameStart(supervisorToken, 'U'),
          end: Buffer.from('\x1e\n'),
          maxPayloadBytes: 0,
        },
        stateFrame(baseStateToken),
        {
          name: 'ready',
          start: frameStart(readyToken, 'R'),
          end: Buffer.from('\x1e\n'),
          maxPayloadBytes: 64,
        },
      ]);
      const stderrFrames = new FrameScanner([deathFrame(supervisorToken)]);
      const finish = (error?: RuntimeError): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        shell.onStdout = () => {};
        shell.onStderr = () => {};
        shell.onEnd = () => {};
        if (error) {
          signalProcessGroup(child, 'SIGKILL');
          reject(error);
        } else resolve();
      };
      const failWithShellMessage = (status: string): void => {
        // Let stderr drain so the message can say why the shell ended: until the stream ends (its
        // last bytes can come after the exit, later still on a loaded machine), or at most
        // STARTUP_STDERR_DRAIN_MS when something the transport started keeps it open.
        whenDrained(child.stderr, STARTUP_STDERR_DRAIN_MS, () => {
          const said = stderr
            .split('\n')
            .filter((line) => !line.includes('\x1e'))
            .join('\n');
          const reason =
            spawnFailure?.message ??
            this.#options.describeExit?.({
              exitCode: shell.exitCode,
              signal: shell.exitSignal,
              stderr: said,
            }) ??
            (said.trim() ? lastLine(said) : status);
          finish(
            spawnFailure ?? new RuntimeError(`${label}: the shell ended before it was ready: ${reason}`),
          );
        });
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
        for (const event of stdoutFrames.feed(chunk)) {
          if (event.kind !== 'frame') continue;
          if (event.name === 'up' && phase === 'supervisor') {
            phase = 'init';
            child.stdin.write(
              initScript({
                readyToken,
                baseStateToken,
                env: this.#options.env ?? {},
                watchDeadlines: this.#options.inBandDeadline !== false,
                // A replaced shell goes back to the last directory with the first command's state update.
                ...(this.#cwdMustExist && this.#options.cwd
                  ? { cwd: this.#options.cwd, cwdMustExist: true }
                  : {}),
              }),
            );
          } else if (event.name === 'state') baseDump = event.payload;
          else if (event.name === 'ready') {
            const [pid = '', flavor = '', fds = '-', prestart = '-'] = event.payload
              .toString('latin1')
              .split(' ');
            shell.pid = Number(pid);
            shell.flavor = flavor === 'bash' ? 'bash' : 'posix';
            shell.prestart = shell.flavor === 'bash' && prestart === '1';
            shell.passing = fds.startsWith('/')
              ? { kind: 'descriptor', directory: fds }
              : { kind: 'environment' };
            const base = baseDump ? parseState(baseDump, shell.flavor) : undefined;
            if (!base) {
              finish(new RuntimeError(`${label}: the shell started but did not report its state`));
              return;
            }
            shell.state = base;
            this.#cwdMustExist = false;
            finish();
          }
        }
      };
      shell.onStderr = (chunk) => {
        if (stderr.length < STARTUP_OUTPUT_LIMIT_BYTES) stderr += chunk.toString('utf8');
        for (const event of stderrFrames.feed(chunk)) {
          if (event.kind === 'frame') failWithShellMessage(`exit status ${event.payload.toString('latin1')}`);
        }
      };
      shell.onEnd = () => failWithShellMessage(`exit status ${shell.exitCode ?? shell.exitSignal}`);
      child.on('error', (error: NodeJS.ErrnoException) => {
        spawnFailure = new RuntimeError(`${label}: cannot start ${file}: ${error.code ?? error.message}`, {
          hint: error.code === 'ENOENT' ? `install ${file} or point opsmate at another program` : undefined,
        });
        shell.exited = true;
        markEnded();
      });
      child.stdin.write(`${supervisorLine(supervisorToken)}\n`);
    });

    this.#state ??= shell.state;
    this.#goIdle(shell);
    return shell;
  }

  /** Between commands: whatever arrives is a background job's output, kept for the next result. */
  #goIdle(shell: LiveShell): void {
    shell.onStdout = (chunk) => this.#background.stdout.push(chunk);
    if (shell.prestart) {
      // The next command's shell starts now, while nothing runs. If it ends before it got its
      // script (killed from outside), this shell is replaced; a script sent meanwhile is read by
      // the session shell as a line of its own, and it ends on anything but `MARKER TOKEN`.
      const next = { runMarker: this.#runMarker(this.#runCount + 1), token: randomToken() };
      shell.next = next;
      const idleStdout = new FrameScanner([
        { name: 'exit', start: frameStart(next.token, '>'), end: Buffer.from('\x1e\n'), maxPayloadBytes: 16 },
      ]);
      shell.onStdout = (chunk) => {
        for (const event of idleStdout.feed(chunk)) {
          if (event.kind === 'data') this.#background.stdout.push(event.data);
          else this.#killShell(shell);
        }
      };
      shell.child.stdin.write(prestartLine(next));
    }
    const idleStderr = shell.next
      ? new FrameScanner([
          deathFrame(shell.supervisorToken),
          {
            name: 'end',
            start: Buffer.from(`\x1e${shell.next.token}<\x1e\n`),
            end: Buffer.alloc(0),
            maxPayloadBytes: 0,
          },
        ])
      : shell.idleStderr;
    shell.onStderr = (chunk) => {
      for (const event of idleStderr.feed(chunk)) {
        if (event.kind === 'data') this.#background.stderr.push(event.data);
        else if (event.name === 'death') this.#endShell(shell);
      }
    };
    shell.onEnd = () => {};
  }

  /** The session shell is gone: make sure its transport goes too. */
  #endShell(shell: LiveShell): void {
    if (shell.ended) return;
    shell.ended = true;
    shell.onEnd();
    if (!shell.exited)
      setTimeout(() => shell.exited || signalProcessGroup(shell.child, 'SIGKILL'), PIPE_DRAIN_MS);
  }

  /** The marker in the environment of run number `run`, to find its processes (see commandInput). */
  #runMarker(run: number): string {
    return `${this.#sessionMarker}-${run}.`;
  }

  #takeBackground(): BackgroundOutput | undefined {
    const stdout = this.#background.stdout.take();
    const stderr = this.#background.stderr.take();
    if (stdout.bytes === 0 && stderr.bytes === 0) return undefined;
    return { stdout: stdout.text, stderr: stderr.text, bytes: stdout.bytes + stderr.bytes };
  }

  #execute(shell: LiveShell, command: string, options: RunOptions, startedAt: number): Promise<RunResult> {
    const next = shell.next;
    shell.next = undefined;
    if (shell.prestart && !next)
      throw new RuntimeError(`${this.#options.label ?? 'shell'}: no command shell waiting`);
    const token = next?.token ?? randomToken();
    const stateToken = randomToken();
    const runId = `${process.pid}-${Date.now()}-${++this.#runCount}`;
    const limit = this.#options.outputLimitBytes ?? DEFAULT_OUTPUT_LIMIT_BYTES;
    const collector = (stream: string): OutputCollector =>
      new OutputCollector({
        limitBytes: limit,
        spillFile: join(this.#options.spillDir, `${runId}.${stream}`),
        ...(this.#options.spillLimitBytes !== undefined
          ? { spillLimitBytes: this.#options.spillLimitBytes }
          : {}),
      });
    const stdout = collector('stdout');
    const stderr = collector('stderr');
    const previousState = this.#state ?? shell.state;
    // The session shell's variables never change after it started: each command's shell gets the
    // carried ones from its own script. Only its directory follows the commands.
    const wantCd =
      previousState.rawCwd !== undefined && previousState.rawCwd !== shell.state.rawCwd
        ? previousState.rawCwd
        : undefined;
    const stdoutFrames = new FrameScanner([
      // No output can know this token: its frame ends any frame a command opened and left open.
      {
        name: 'exit',
        start: frameStart(token, '>'),
        end: Buffer.from('\x1e\n'),
        maxPayloadBytes: 16,
        interrupts: true,
      },
      stateFrame(stateToken),
      // A shell started ahead enters the directory itself and says whether it could (G or N).
      ...(shell.prestart && wantCd !== undefined
        ? [
            {
              name: 'cwd',
              start: frameStart(stateToken, 'C'),
              end: Buffer.from('\x1e\n'),
              maxPayloadBytes: 1,
            },
          ]
        : []),
    ]);
    const stderrFrames = new FrameScanner([
      { name: 'end', start: Buffer.from(`\x1e${token}<\x1e\n`), end: Buffer.alloc(0), maxPayloadBytes: 0 },
      deathFrame(shell.supervisorToken),
    ]);
    const timeoutMs = options.timeoutMs ?? this.#options.defaultTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
    const background = this.#takeBackground();
    const runMarker = next?.runMarker ?? this.#runMarker(this.#runCount);
    const runningBefore = previousState.backgroundPids;
    let input: string;
    try {
      // Byte strings throughout (latin1): carried values are bytes, the command is UTF-8.
      const common = {
        command: Buffer.from(command, 'utf8').toString('latin1'),
        token,
        stateToken,
        variables: commandShellAssignments({
          inherited: shell.state.variables,
          wanted: previousState.variables,
        }),
        ...(wantCd !== undefined ? { cd: wantCd } : {}),
        scanMarkers: /(?:^|[^&>])&(?:$|[^&>])/.test(command),
        backgroundPids: runningBefore,
        ...(this.#options.inBandDeadline !== false && Number.isFinite(timeoutMs) && timeoutMs > 0
          ? { deadlineMs: timeoutMs + IN_BAND_DEADLINE_MARGIN_MS }
          : {}),
      };
      input = shell.prestart
        ? prestartedCommandInput(common).input
        : commandInput({ ...common, flavor: shell.flavor, passing: shell.passing, runMarker }).line;
    } catch (error) {
      if (!(error instanceof RangeError)) throw error;
      return Promise.resolve(
        this.#syntheticResult(command, startedAt, { exitCode: 126, stderr: `opsmate: ${error.message}\n` }),
      );
    }

    return new Promise<RunResult>((resolve) => {
      let exitStatus: number | undefined;
      let stderrDone = false;
      let reportedState: ShellState | undefined;
      let stateProblem: string | undefined;
      /** The directory to start in was gone: the command did not run. */
      let lostCwd = false;
      /** What a shell started ahead said of entering the directory: G (entered) or N (gone). */
      let cwdVerdict: string | undefined;
      let unstoppable: string | undefined;
      let stopReported = false;
      /** The side channel's stop did not answer: only the command's end (by the watcher) is known. */
      let stopUnconfirmed = false;
      /** Variables the command set too big to carry, with their sizes. */
      let dropped: string | undefined;
      let interruption: Interruption | undefined;
      let replaced: 'stopped' | 'unresponsive' | 'killed' | undefined;
      let settled = false;
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
        if (stream === 'stdout' && exitStatus !== undefined) {
          // After the exit frame: a background job of this command, still printing.
          this.#background.stdout.push(data);
          return;
        }
        (stream === 'stdout' ? stdout : stderr).write(data);
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

      const onStdoutEvent = (event: ScanEvent): void => {
        if (event.kind === 'data') {
          emit('stdout', event.data);
          return;
        }
        if (event.name === 'cwd') {
          // The first one was printed before the command started; any later one is the command's.
          if (cwdVerdict === undefined) cwdVerdict = event.payload.toString('latin1');
          return;
        }
        if (event.name === 'state') {
          const parsed = event.overflow ? undefined : parseState(event.payload, shell.flavor);
          if (parsed) {
            dropped = dropOversizedValues(parsed.variables);
            reportedState = parsed;
            stateProblem = undefined;
          } else {
            stateProblem = event.overflow
              ? `its variables took more than ${MAX_STATE_BYTES} bytes`
              : 'it reported its state in a form opsmate does not accept';
          }
          if (exitStatus === undefined) later(WEDGE_CHECK_MS, () => void checkWedged());
          return;
        }
        // Once opsmate decided to replace the shell, a trailer that still arrives changes nothing.
        if (exitStatus !== undefined || replaced) return;
        const payload = event.payload.toString('latin1');
        if (payload === 'nocwd' || (shell.prestart && wantCd !== undefined && cwdVerdict === 'N')) {
          lostCwd = true;
        } else if (wantCd !== undefined && !shell.prestart) {
          // The session shell is now in the directory the command started in.
          shell.state = { ...shell.state, rawCwd: wantCd, cwd: previousState.cwd };
        } else if (shell.prestart) {
          shell.startedIn = wantCd === undefined ? undefined : { rawCwd: wantCd, cwd: previousState.cwd };
        }
        const status = Number.parseInt(payload, 10);
        exitStatus = Number.isNaN(status) ? -1 : status;
        // Past the limit, the timer was only late (or the watcher on the target stopped it): the
        // command ran out of time, and its status is not a result.
        if (!interruption && performance.now() - startedAt >= timeoutMs) interrupt('total');
        if (!stderrDone) later(STDERR_SETTLE_MS, () => complete(true));
        complete();
      };

      shell.onStdout = (chunk) => {
        armIdle();
        for (const event of stdoutFrames.feed(chunk)) onStdoutEvent(event);
      };
      shell.onStderr = (chunk) => {
        armIdle();
        for (const event of stderrFrames.feed(chunk)) {
          if (event.kind === 'data') {
            if (stderrDone) this.#background.stderr.push(event.data);
            else emit('stderr', event.data);
          } else if (event.name === 'end') {
            stderrDone = true;
            complete();
          } else this.#endShell(shell);
        }
      };
      shell.onEnd = () => {
        // Pipes may still hold output; give them a moment, unless a background job keeps them open.
        later(PIPE_DRAIN_MS, () => complete(true));
      };

      /** The command reported its end, but the session shell did not: stopped by a signal? */
      const checkWedged = async (): Promise<void> => {
        if (settled || exitStatus !== undefined || interruption) return;
        const state = await this.#processState(shell.pid);
        if (settled || exitStatus !== undefined || interruption) return;
        if (state === 'T' || state === 't') {
          replaced = 'stopped';
          this.#killShell(shell);
          later(PIPE_DRAIN_MS, () => complete(true));
        } else later(WEDGE_CHECK_MS * 2, () => void checkWedged());
      };

      const interrupt = (kind: Interruption): void => {
        if (interruption || settled) return;
        interruption = kind;
        void this.#stopCommand(shell, runMarker).then(({ stopped, refused }) => {
          if (refused) unstoppable = refused;
          if (!stopped) stopUnconfirmed = true;
          stopReported = true;
          if (settled) return;
          complete();
          if (settled) return;
          if (!stopped) {
            replaced = 'killed';
            this.#killShell(shell);
            later(PIPE_DRAIN_MS, () => complete(true));
            return;
          }
          later(STOP_SETTLE_MS, () => {
            if (settled) return;
            replaced = 'unresponsive';
            this.#killShell(shell);
            later(PIPE_DRAIN_MS, () => complete(true));
          });
        });
      };
      later(timeoutMs, () => interrupt('total'));
      armIdle();
      const onAbort = (): void => interrupt('cancelled');
      options.signal?.addEventListener('abort', onAbort, { once: true });

      const complete = (force = false): void => {
        if (settled) return;
        // An interrupted command is reported only once the stop script has said what it stopped and
        // what refused: the exit frame of a killed command can arrive first (ssh's side channel is
        // slower than the session), and a result without the refusals would claim all were killed.
        if (interruption && !stopReported) return;
        const framed = exitStatus !== undefined && (stderrDone || force);
        const ended = force && shell.ended;
        if (!framed && !ended) return;
        settled = true;
        for (const timer of timers) clearTimeout(timer);
        if (idleTimer) clearTimeout(idleTimer);
        options.signal?.removeEventListener('abort', onAbort);
        if (exitStatus === undefined) emit('stdout', stdoutFrames.flush());
        else this.#background.stdout.push(stdoutFrames.flush());
        if (!stderrDone) emit('stderr', stderrFrames.flush());
        if (shell.ended) this.#dropShell(shell);
        else this.#goIdle(shell);

        // Where a command left no directory to go back to (deleted, or its own had to be given up),
        // the next one runs where the session shell is, and the notice says so.
        let movedTo: string | undefined;
        const fallback = shell.startedIn ?? shell.state;
        if (lostCwd) {
          movedTo = fallback.cwd;
          this.#state = { ...(this.#state ?? shell.state), rawCwd: fallback.rawCwd, cwd: fallback.cwd };
        } else if (reportedState) {
          if (reportedState.rawCwd === undefined) {
            movedTo = fallback.cwd;
            this.#state = { ...reportedState, rawCwd: fallback.rawCwd, cwd: fallback.cwd };
          } else this.#state = reportedState;
        }
        const shellExited = shell.ended;
        const exitCode = interruption || exitStatus === undefined || lostCwd ? null : exitStatus;
        const out = stdout.finish();
        const err = stderr.finish();
        const cwd = this.cwd;
        const notice = this.#notice({
          interruption,
          timeoutMs,
          idleTimeoutMs: options.idleTimeoutMs,
          shellExited,
          replaced,
          shell,
          stateProblem:
            exitStatus === undefined || interruption || shellExited
              ? undefined
              : (stateProblem ??
                (reportedState
                  ? undefined
                  : 'it did not report them (for example it ran exec, took over descriptor ' +
                    `${shell.flavor === 'bash' ? 250 : 7}, or exited from its own EXIT trap)`)),
          spillIncomplete: out.spillIncomplete ?? err.spillIncomplete,
          dropped: exitStatus === undefined || interruption ? undefined : dropped,
          background,
          runningBefore,
          lostCwd: lostCwd ? (previousState.cwd ?? '?') : undefined,
          movedTo,
          unstoppable,
          stopUnconfirmed,
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
          ...(shellExited ? { shellExitReason: replaced ? ('killed' as const) : ('ended' as const) } : {}),
          durationMs: performance.now() - startedAt,
          ...(cwd ? { cwd } : {}),
          ...(background ? { backgroundOutput: background } : {}),
          ...(notice ? { notice } : {}),
        });
      };

      if (shell.ended) {
        later(0, () => complete(true));
        return;
      }
      shell.child.stdin.write(Buffer.from(input, 'latin1'));
    });
  }

  /**
   * Stops the running command's whole process tree (SIGSTOP to every descendant of the session
   * shell, then SIGKILL) through the side channel. Resolves false when that could not be done, and
   * the caller must kill the shell instead.
   */
  async #stopCommand(shell: LiveShell, runMarker: string): Promise<{ stopped: boolean; refused?: string }> {
    const sideChannel = this.#options.sideChannel;
    if (!sideChannel || shell.pid <= 0) return { stopped: false };
    const result = await withTimeout(
      sideChannel(STOP_DESCENDANTS_SCRIPT, [String(shell.pid), runMarker]).catch(() => undefined),
      STOP_SCRIPT_TIMEOUT_MS,
    );
    const stopped = result?.exitCode === 0 && result.stdout.startsWith('stopped:');
    const refusedLine = /^unstoppable: *(.+)$/m.exec(result?.stdout ?? '')?.[1];
    const refused = refusedLine
      ?.trim()
      .split(/\s+/)
      .slice(0, 5)
      .map((entry) => {
        const [pid, ...name] = entry.split(':');
        return `pid ${pid} (${name.join(':')})`;
      })
      .join(', ');
    return { stopped, ...(refused ? { refused } : {}) };
  }

  /** Asks the target for the session shell's process state letter. */
  async #processState(pid: number): Promise<string | undefined> {
    const sideChannel = this.#options.sideChannel;
    if (!sideChannel || pid <= 0) return undefined;
    const result = await withTimeout(
      sideChannel(PROCESS_STATE_SCRIPT, [String(pid)]).catch(() => undefined),
      STOP_SCRIPT_TIMEOUT_MS,
    );
    return result?.stdout.trim() || undefined;
  }

  /** Kills the session shell and its transport; the next command starts a new one. */
  #killShell(shell: LiveShell): void {
    const sideChannel = this.#options.sideChannel;
    if (sideChannel && shell.pid > 0) {
      // Not awaited here, but close() waits for it: no connection outlives the session.
      const kill = withTimeout(
        sideChannel(`kill -s KILL "$1" 2>/dev/null; exit 0`, [String(shell.pid)]).catch(() => undefined),
        STOP_SCRIPT_TIMEOUT_MS,
      );
      this.#sideKills.add(kill);
      void kill.finally(() => this.#sideKills.delete(kill));
    }
    signalProcessGroup(shell.child, 'SIGKILL');
    shell.ended = true;
  }

  #notice(facts: {
    interruption: Interruption | undefined;
    timeoutMs: number;
    idleTimeoutMs: number | undefined;
    shellExited: boolean;
    replaced: 'stopped' | 'unresponsive' | 'killed' | undefined;
    shell: LiveShell;
    stateProblem: string | undefined;
    spillIncomplete: string | undefined;
    dropped: string | undefined;
    background: BackgroundOutput | undefined;
    runningBefore: number[];
    lostCwd: string | undefined;
    movedTo: string | undefined;
    unstoppable: string | undefined;
    stopUnconfirmed: boolean;
  }): string | undefined {
    const parts: string[] = [];
    if (facts.lostCwd !== undefined) {
      parts.push(
        `not run: its working directory ${facts.lostCwd} no longer exists; the shell is now in ${facts.movedTo ?? 'another directory'}`,
      );
    } else if (facts.movedTo !== undefined) {
      parts.push(`its working directory no longer exists; the next command runs in ${facts.movedTo}`);
    }
    const stopped =
      facts.replaced === 'killed'
        ? 'opsmate could not confirm that all of its processes were stopped, and replaced the shell; some may still be running on the target'
        : facts.unstoppable
          ? `the command's processes were stopped and killed, except ${facts.unstoppable}, which refused the signals (another user's, e.g. under sudo) and may still be running`
          : facts.stopUnconfirmed
            ? "the command ended, but opsmate's stop through the side channel did not answer in time, so it cannot confirm that none of its processes is left on the target"
            : 'the command and all its processes were stopped and killed; nothing after that point ran';
    if (facts.interruption === 'total')
      parts.push(`timed out after ${formatSeconds(facts.timeoutMs)}: ${stopped}`);
    else if (facts.interruption === 'idle') {
      parts.push(`printed nothing for ${formatSeconds(facts.idleTimeoutMs ?? 0)}: ${stopped}`);
    } else if (facts.interruption === 'cancelled') parts.push(`cancelled: ${stopped}`);
    if (facts.shellExited) {
      const where = this.cwd ? ` in ${this.cwd}` : '';
      const next = `the next command runs in a new shell${where} with the same variables`;
      if (facts.replaced === 'stopped') {
        parts.push(
          `the command stopped opsmate's shell (SIGSTOP), so it was replaced and the exit code is unknown; ${next}`,
        );
      } else if (facts.replaced === 'unresponsive') {
        parts.push(`the shell did not answer after the stop and was replaced; ${next}`);
      } else if (facts.replaced) {
        parts.push(next);
      } else {
        const described = this.#options.describeExit?.({
          exitCode: facts.shell.exitCode,
          signal: facts.shell.exitSignal,
          stderr: facts.shell.stderrTail
            .split('\n')
            .filter((line) => !line.includes('\x1e'))
            .join('\n'),
        });
        parts.push(`${described ?? 'the shell was killed or crashed'}; ${next}`);
      }
    }
    if (facts.stateProblem) {
      parts.push(`the working directory and variables it set were not kept: ${facts.stateProblem}`);
    }
    if (facts.spillIncomplete) parts.push(`the spill file is incomplete: ${facts.spillIncomplete}`);
    if (facts.dropped) {
      parts.push(
        `not carried to later commands, over ${MAX_CARRIED_VALUE_BYTES / (1024 * 1024)} MiB: ${facts.dropped} (keep big data in a file)`,
      );
    }
    if (facts.runningBefore.length > 0) {
      const pids =
        facts.runningBefore.slice(0, 5).join(', ') + (facts.runningBefore.length > 5 ? ', ...' : '');
      parts.push(
        `background processes of earlier commands were still running (pid ${pids}): anything they printed meanwhile is mixed into this output`,
      );
    }
    if (facts.background) {
      parts.push(
        `${facts.background.bytes} bytes printed by background processes of earlier commands are reported apart (backgroundOutput)`,
      );
    }
    return parts.length > 0 ? parts.join('; ') : undefined;
  }
}

/** Parses a state frame's payload: pids of live background jobs, US, then the variables dump. */
function parseState(payload: Buffer, flavor: ShellFlavor): ShellState | undefined {
  const text = payload.toString('latin1');
  const separator = text.indexOf('\x1f');
  if (separator < 0) return undefined;
  const parsed = parseStateDump(text.slice(separator + 1), flavor);
  if (!parsed) return undefined;
  const backgroundPids = [
    ...new Set(
      text
        .slice(0, separator)
        .split('\n')
        .filter((line) => /^[1-9][0-9]{0,9}$/.test(line))
        .map(Number),
    ),
  ];
  // PWD came as latin1 bytes; as a path for messages and results it is UTF-8.
  const cwd = parsed.cwd === undefined ? undefined : Buffer.from(parsed.cwd, 'latin1').toString('utf8');
  return { variables: parsed.variables, cwd, rawCwd: parsed.cwd, backgroundPids };
}

/** Removes the values too big to carry; returns them as `NAME (SIZE)`, or undefined. */
function dropOversizedValues(variables: ShellState['variables']): string | undefined {
  const names: string[] = [];
  for (const [name, variable] of variables) {
    // Values are latin1 strings of the shell's bytes: the length is the byte count.
    const size = variable.value?.length ?? 0;
    if (size <= MAX_CARRIED_VALUE_BYTES) continue;
    variables.delete(name);
    names.push(`${name} (${(size / (1024 * 1024)).toFixed(1)} MiB)`);
  }
  return names.length > 0 ? names.join(', ') : undefined;
}

function frameStart(token: string, kind: string): Buffer {
  return Buffer.from(`\x1e${token}${kind}`);
}

function stateFrame(token: string): FrameSpec {
  return {
    name: 'state',
    start: frameStart(token, 'S'),
    end: Buffer.from(`\x1e${token}E\n`),
    maxPayloadBytes: MAX_STATE_BYTES,
  };
}

function deathFrame(supervisorToken: string): FrameSpec {
  return {
    name: 'death',
    start: frameStart(supervisorToken, 'X'),
    end: Buffer.from('\x1e\n'),
    maxPayloadBytes: 16,
  };
}

/** Keeps the first bytes of a stream up to a cap, and counts all of them. */
class BoundedText {
  #parts: Buffer[] = [];
  #kept = 0;
  #bytes = 0;

  push(data: Buffer): void {
    if (data.length === 0) return;
    this.#bytes += data.length;
    const room = BACKGROUND_LIMIT_BYTES - this.#kept;
    if (room <= 0) return;
    const part = Buffer.from(data.subarray(0, room));
    this.#parts.push(part);
    this.#kept += part.length;
  }

  take(): { text: string; bytes: number } {
    const text = Buffer.concat(this.#parts).toString('utf8');
    const bytes = this.#bytes;
    const cut = bytes - this.#kept;
    this.#parts = [];
    this.#kept = 0;
    this.#bytes = 0;
    return { text: cut > 0 ? `${text}\n[... ${cut} more bytes not kept ...]\n` : text, bytes };
  }
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

async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
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
