import { ENV_VAR_NAME } from '../config/schema-fields.js';
import { ConfigError, RuntimeError } from '../errors/opsmate-error.js';
import type { CoResult } from '../process/child-process.js';
import type { Runtime, RunOptions, RunResult, RuntimeContext } from './contract.js';
import { formatServiceOverview, SERVICE_OVERVIEW_SCRIPT } from './service-overview.js';
import {
  ShellSession,
  type ShellExit,
  type ShellSessionOptions,
  type ShellTransport,
} from './shell-session/shell-session.js';

/** Exported in every shell opsmate drives: nothing may wait on a pager or a credential prompt. */
export const NON_INTERACTIVE_ENV: Readonly<Record<string, string>> = {
  PAGER: 'cat',
  GIT_PAGER: 'cat',
  SYSTEMD_PAGER: '',
  MANPAGER: 'cat',
  GIT_TERMINAL_PROMPT: '0',
  DEBIAN_FRONTEND: 'noninteractive',
};

/** Timeout of the short probes behind osInfo, whoami, hasSystemd and services. */
const PROBE_TIMEOUT_MS = 15_000;

export interface ShellRuntimeOptions {
  name: string;
  context: RuntimeContext;
  /** Variables exported in the shell on the target, after {@link NON_INTERACTIVE_ENV}. */
  env?: Record<string, string>;
  /** Working directory of the first shell on the target. */
  cwd?: string;
  /** Default timeout for commands, in milliseconds. */
  defaultTimeoutMs?: number;
  /** How long the shell may take to start, in milliseconds. */
  startTimeoutMs?: number;
  /**
   * Keep each command's time limit on the target too (default true): see
   * {@link ShellSessionOptions.inBandDeadline}. Turn it off only where the side channel is a
   * process of this machine.
   */
  inBandDeadline?: boolean;
}

/**
 * Base class for runtimes that drive a shell over a process's stdin, stdout and stderr. A transport
 * implements {@link transport} (the argv of its shell) and usually {@link sideChannel}; everything
 * else, from exit codes to timeouts and restarts, comes from the shared {@link ShellSession}.
 */
export abstract class ShellRuntime implements Runtime {
  readonly name: string;
  /** Whether each command's limit is also kept on the target (see ShellRuntimeOptions). */
  readonly inBandDeadline: boolean;
  protected readonly context: RuntimeContext;
  protected readonly session: ShellSession;
  #connected = false;

  constructor(options: ShellRuntimeOptions) {
    // The engine could not export such a name; say so as the configuration error it is.
    const badName = Object.keys(options.env ?? {}).find((name) => !ENV_VAR_NAME.test(name));
    if (badName !== undefined) {
      throw new ConfigError(
        `${options.name} runtime: ${JSON.stringify(badName)} is not an environment variable name`,
        {
          hint: 'use letters, digits and _, not starting with a digit (envVarMap() checks this in a config schema)',
        },
      );
    }
    this.name = options.name;
    this.inBandDeadline = options.inBandDeadline !== false;
    this.context = options.context;
    const sessionOptions: ShellSessionOptions = {
      label: `${options.name} runtime`,
      transport: () => this.transport(),
      ...(this.sideChannel ? { sideChannel: (script, args) => this.sideChannel!(script, args) } : {}),
      describeExit: (exit) => this.describeExit(exit),
      env: { ...NON_INTERACTIVE_ENV, ...options.env },
      spillDir: options.context.spillDir,
      outputLimitBytes: options.context.outputLimitBytes,
      ...(options.context.spillLimitBytes !== undefined
        ? { spillLimitBytes: options.context.spillLimitBytes }
        : {}),
      ...(options.cwd ? { cwd: options.cwd } : {}),
      ...(options.defaultTimeoutMs ? { defaultTimeoutMs: options.defaultTimeoutMs } : {}),
      ...(options.startTimeoutMs ? { startTimeoutMs: options.startTimeoutMs } : {}),
      ...(options.inBandDeadline === false ? { inBandDeadline: false } : {}),
    };
    this.session = new ShellSession(sessionOptions);
  }

  /** The process that carries the shell. Called at every (re)start. */
  protected abstract transport(): ShellTransport | Promise<ShellTransport>;

  /**
   * Runs `sh -c SCRIPT sh ARGS...` on the target beside the session's shell, as a separate
   * process (not through the busy shell). The engine uses it to stop a timed-out or cancelled
   * command's whole process tree while keeping the shell, and to check on a shell that stopped
   * answering. Every transport should implement it; without it a timeout can only kill the
   * transport, which on a remote target may leave the command's processes running.
   */
  protected sideChannel?(script: string, args: string[]): Promise<CoResult>;

  /** One line explaining why the transport process ended, or undefined for the generic wording. */
  protected describeExit(_exit: ShellExit): string | undefined {
    return undefined;
  }

  /** Checks before the first shell starts: binaries present, target reachable. Throw RuntimeError. */
  protected async preflight(_signal?: AbortSignal): Promise<void> {}

  /** Releases what the transport holds besides the shell (master connections...). */
  protected async cleanup(): Promise<void> {}

  abstract runtimeInfo(): Promise<string>;
  abstract target(): Record<string, string>;

  async connect(options: { signal?: AbortSignal } = {}): Promise<void> {
    if (!this.#connected) {
      await this.preflight(options.signal);
      this.#connected = true;
    }
    try {
      await this.session.start(options.signal);
    } catch (error) {
      // The shell cannot even start its supervisor without /dev/null: say what the target lacks.
      if (RuntimeError.isInstance(error) && lacksDevNull(error.message)) {
        throw new RuntimeError(`${this.name} runtime: the target has no /dev/null, which opsmate needs`, {
          hint: `create it on the target (mknod -m 666 /dev/null c 1 3); the shell said: ${error.message}`,
        });
      }
      throw error;
    }
  }

  async disconnect(): Promise<void> {
    await this.session.close();
    if (this.#connected) {
      this.#connected = false;
      await this.cleanup().catch(() => undefined);
    }
  }

  async run(command: string, options: RunOptions = {}): Promise<RunResult> {
    if (!this.#connected) await this.connect(options.signal ? { signal: options.signal } : {});
    return explainTargetProblems(await this.session.run(command, options));
  }

  async osInfo(): Promise<string> {
    const result = await this.#probe('uname -a; cat /etc/os-release 2>/dev/null');
    return requireOutput(result);
  }

  async whoami(): Promise<string> {
    const result = await this.#probe('id -un 2>/dev/null || whoami 2>/dev/null || id');
    return requireOutput(result);
  }

  async hasSystemd(): Promise<boolean> {
    const result = await this.#probe('[ -d /run/systemd/system ]');
    if (result.exitCode === 0 || result.exitCode === 1) return result.exitCode === 0;
    throw new RuntimeError(probeFailure(result));
  }

  async services(): Promise<string> {
    const result = await this.#probe(SERVICE_OVERVIEW_SCRIPT);
    if (result.exitCode !== 0 || result.timedOut || result.cancelled)
      throw new RuntimeError(probeFailure(result));
    return formatServiceOverview(result.stdout);
  }

  #probe(command: string): Promise<RunResult> {
    return this.run(command, { timeoutMs: PROBE_TIMEOUT_MS });
  }
}

/** The probe's output, or a RuntimeError saying why it has none. */
function requireOutput(result: RunResult): string {
  const text = result.stdout.trim();
  if (text !== '' && !result.timedOut && !result.cancelled && result.exitCode !== null) return text;
  throw new RuntimeError(probeFailure(result));
}

/** Why a probe failed, in a few words: `timed out after 15 s`, `exit 127: id: not found`. */
function probeFailure(result: RunResult): string {
  if (result.notice && (result.timedOut || result.cancelled || result.exitCode === null))
    return result.notice;
  const stderr = result.stderr.trim().split('\n')[0];
  const status = result.exitCode === 0 ? 'no output' : `exit ${result.exitCode}`;
  return stderr ? `${status}: ${stderr}` : status;
}

/** The shell's own words when it cannot open /dev/null (dash, bash, busybox ash, runc). */
const NO_DEV_NULL =
  /(?:can't open|cannot open|cannot create|can't create|stat) '?\/dev\/null'?: (?:no such file|nonexistent directory)|\/dev\/null: no such file/i;

/** What a notice says when the target lacks something every command needs. */
export const NO_DEV_NULL_NOTICE =
  'the target has no /dev/null, which opsmate needs: every command reads its stdin from it; create it on the target (mknod -m 666 /dev/null c 1 3)';

/** Adds what the target lacks to a result that failed for that reason alone. */
function explainTargetProblems(result: RunResult): RunResult {
  if (result.exitCode === 0 || !NO_DEV_NULL.test(result.stderr)) return result;
  return {
    ...result,
    notice: result.notice ? `${result.notice}; ${NO_DEV_NULL_NOTICE}` : NO_DEV_NULL_NOTICE,
  };
}

/** Whether an error text says the target has no /dev/null (e.g. from `docker exec`). */
export function lacksDevNull(text: string): boolean {
  return NO_DEV_NULL.test(text);
}
