import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RuntimeError } from '../../errors/opsmate-error.js';
import { co, type CoResult } from '../../process/child-process.js';
import { shellJoin } from '../../runtime/shell-session/shell-quote.js';
import { withoutOwnSecrets } from '../../process/child-environment.js';
import { Askpass } from './askpass.js';
import {
  classifySshFailure,
  isRetriedFailure,
  sshFailureError,
  type SshEndpoint,
  type SshFailureKind,
} from './ssh-failure.js';

export type KnownHostsPolicy = 'accept-new' | 'strict' | 'off';

export interface SshConnectionOptions {
  host: string;
  port?: number | undefined;
  username?: string | undefined;
  password?: string | undefined;
  keyFile?: string | undefined;
  /** ssh -F: the client config file instead of ~/.ssh/config and /etc/ssh/ssh_config. */
  configFile?: string | undefined;
  /** Seconds ssh may take to connect (ConnectTimeout). */
  connectTimeoutSeconds: number;
  /** Further attempts after a failed connection that may be temporary. */
  connectRetries: number;
  knownHostsPolicy: KnownHostsPolicy;
  knownHostsFile?: string | undefined;
  /** `Key=Value` options given to ssh before opsmate's own, so they take precedence. */
  extraOptions: readonly string[];
  /** The OpenSSH client to run. Default `ssh` from PATH. */
  sshBinary?: string;
}

/** Seconds the master connection outlives its last client, so a crashed opsmate leaves nothing. */
const CONTROL_PERSIST_SECONDS = 60;
const SERVER_ALIVE_INTERVAL_SECONDS = 10;
const SERVER_ALIVE_COUNT_MAX = 3;
const CONTROL_COMMAND_TIMEOUT_MS = 5_000;
const FIRST_BACKOFF_MS = 250;
const MAX_BACKOFF_MS = 2_000;
/** Unix socket paths are limited to 104-108 bytes; ssh adds 18 for a temporary name. */
const MAX_CONTROL_PATH_BYTES = 80;

/**
 * One SSH destination reached through the system OpenSSH client, so the user's ~/.ssh/config,
 * ProxyJump, agent and certificates apply. Keeps a ControlMaster connection in a private folder;
 * shells and side-channel commands are multiplexed over it. Every ssh call is an argv; config
 * values never pass through a local shell.
 */
export class SshConnection {
  readonly #options: SshConnectionOptions;
  readonly #ssh: string;
  #dir: string | undefined;
  #askpass: Askpass | undefined;
  #endpoint: SshEndpoint;

  constructor(options: SshConnectionOptions) {
    this.#options = options;
    this.#ssh = options.sshBinary ?? 'ssh';
    this.#endpoint = {
      host: options.host,
      port: options.port ?? 22,
      user: options.username ?? '',
      knownHostsFile: options.knownHostsFile,
    };
  }

  /** Host, port and user as ssh resolves them (after ~/.ssh/config), once {@link open} ran. */
  get endpoint(): SshEndpoint {
    return this.#endpoint;
  }

  /**
   * Creates the private folder, checks the options with `ssh -G`, and opens the master connection
   * (with retries). Rejects with a RuntimeError or ConfigError saying what to fix.
   */
  async open(signal?: AbortSignal): Promise<void> {
    if (!this.#dir) {
      this.#dir = privateDir();
      if (this.#options.password !== undefined) {
        this.#askpass = new Askpass({ dir: this.#dir, password: this.#options.password });
      }
    }
    await this.#resolveEndpoint(signal);
    await this.ensureMaster(signal);
  }

  /** Whether the master connection's socket exists (the master removes it when it ends). */
  masterSocketExists(): boolean {
    return this.#dir !== undefined && existsSync(this.#controlPath());
  }

  /** Re-opens the master connection if it has ended (lost connection, server restart...). */
  async ensureMaster(signal?: AbortSignal): Promise<void> {
    if (this.masterSocketExists()) {
      const check = await co([this.#ssh, ...this.#commonArgs(), '-O', 'check', '--', this.#options.host], {
        env: this.environment(),
        timeoutMs: CONTROL_COMMAND_TIMEOUT_MS,
      });
      if (check.exitCode === 0) return;
    }
    await this.#connectMaster(signal);
  }

  /** Argv of an ssh client that runs `remoteCommand` (a shell string) over the master. */
  clientArgv(remoteCommand: string): string[] {
    return [
      this.#ssh,
      ...this.#commonArgs(),
      '-T',
      '-o',
      'ControlMaster=no',
      '--',
      this.#options.host,
      remoteCommand,
    ];
  }

  /** Environment of every local ssh process: opsmate's own secrets removed, askpass added. */
  environment(): NodeJS.ProcessEnv {
    return { ...withoutOwnSecrets(), ...this.#askpass?.environment() };
  }

  /** Runs `argv` on the remote host (quoted for its login shell), beside any open shell. */
  exec(argv: readonly string[], options: { timeoutMs: number; signal?: AbortSignal }): Promise<CoResult> {
    return co(this.clientArgv(shellJoin(argv)), {
      env: this.environment(),
      timeoutMs: options.timeoutMs,
      ...(options.signal ? { signal: options.signal } : {}),
    });
  }

  /** Stops the master connection and removes the private folder. Never rejects. */
  async close(): Promise<void> {
    const dir = this.#dir;
    if (!dir) return;
    if (this.masterSocketExists()) {
      await co([this.#ssh, ...this.#commonArgs(), '-O', 'exit', '--', this.#options.host], {
        env: this.environment(),
        timeoutMs: CONTROL_COMMAND_TIMEOUT_MS,
      }).catch(() => undefined);
    }
    this.#dir = undefined;
    this.#askpass = undefined;
    rmSync(dir, { recursive: true, force: true });
  }

  #controlPath(): string {
    if (!this.#dir) throw new RuntimeError('ssh runtime: not connected');
    return join(this.#dir, 'master');
  }

  /** Options shared by every ssh call. Extra options come first: for ssh the first value wins. */
  #commonArgs(): string[] {
    const options = this.#options;
    const args: string[] = [];
    if (options.configFile !== undefined) args.push('-F', options.configFile);
    for (const option of options.extraOptions) args.push('-o', option);
    args.push(
      '-o',
      `BatchMode=${this.#askpass ? 'no' : 'yes'}`,
      '-o',
      `ConnectTimeout=${options.connectTimeoutSeconds}`,
      '-o',
      `ServerAliveInterval=${SERVER_ALIVE_INTERVAL_SECONDS}`,
      '-o',
      `ServerAliveCountMax=${SERVER_ALIVE_COUNT_MAX}`,
      '-o',
      `ControlPath=${this.#controlPath()}`,
      '-o',
      'ClearAllForwardings=yes',
      '-o',
      'RemoteCommand=none',
    );
    if (options.knownHostsPolicy === 'off') {
      args.push(
        '-o',
        'StrictHostKeyChecking=no',
        '-o',
        'UserKnownHostsFile=/dev/null',
        '-o',
        'GlobalKnownHostsFile=/dev/null',
        '-o',
        'CheckHostIP=no',
      );
    } else {
      args.push(
        '-o',
        `StrictHostKeyChecking=${options.knownHostsPolicy === 'strict' ? 'yes' : 'accept-new'}`,
      );
      if (options.knownHostsFile) {
        args.push('-o', `UserKnownHostsFile=${sshPathValue(options.knownHostsFile)}`);
      }
    }
    if (this.#askpass) args.push('-o', 'NumberOfPasswordPrompts=1');
    if (options.port !== undefined) args.push('-p', String(options.port));
    if (options.username !== undefined) args.push('-l', options.username);
    if (options.keyFile !== undefined) args.push('-i', sshPathValue(options.keyFile));
    return args;
  }

  /** Reads the effective user, port and known_hosts file with `ssh -G`; also validates options. */
  async #resolveEndpoint(signal?: AbortSignal): Promise<void> {
    const result = await co([this.#ssh, ...this.#commonArgs(), '-G', '--', this.#options.host], {
      env: this.environment(),
      timeoutMs: CONTROL_COMMAND_TIMEOUT_MS,
      ...(signal ? { signal } : {}),
    });
    if (result.spawnError) throw missingClient(this.#ssh, result.spawnError);
    if (result.exitCode !== 0) {
      throw this.#failure({ kind: classifySshFailure(result.stderr), stderr: result.stderr, attempts: 1 });
    }
    const settings = new Map<string, string>();
    for (const line of result.stdout.split('\n')) {
      const space = line.indexOf(' ');
      if (space > 0 && !settings.has(line.slice(0, space))) {
        settings.set(line.slice(0, space), line.slice(space + 1).trim());
      }
    }
    const port = Number(settings.get('port'));
    this.#endpoint = {
      host: this.#options.host,
      port: Number.isInteger(port) && port > 0 ? port : this.#endpoint.port,
      user: settings.get('user') ?? this.#endpoint.user,
      knownHostsFile:
        this.#options.knownHostsFile ?? settings.get('userknownhostsfile')?.split(/\s+/)[0] ?? undefined,
    };
  }

  async #connectMaster(signal?: AbortSignal): Promise<void> {
    const attempts = this.#options.connectRetries + 1;
    const argv = [
      this.#ssh,
      ...this.#commonArgs(),
      '-M',
      '-N',
      '-f',
      '-o',
      `ControlPersist=${CONTROL_PERSIST_SECONDS}`,
      '--',
      this.#options.host,
    ];
    // Beyond ConnectTimeout, authentication itself may stall; bound the whole attempt too.
    const attemptTimeoutMs = (this.#options.connectTimeoutSeconds * 2 + 5) * 1000;
    for (let attempt = 1; ; attempt++) {
      const run = (): Promise<CoResult> =>
        co(argv, {
          env: this.environment(),
          timeoutMs: attemptTimeoutMs,
          ...(signal ? { signal } : {}),
        });
      const result = this.#askpass ? await this.#askpass.whileConnecting(run) : await run();
      if (result.exitCode === 0) return;
      if (result.spawnError) throw missingClient(this.#ssh, result.spawnError);
      if (result.cancelled || signal?.aborted) throw new RuntimeError('ssh runtime: connect cancelled');
      const kind: SshFailureKind = result.timedOut ? 'timeout' : classifySshFailure(result.stderr);
      if (!isRetriedFailure(kind) || attempt >= attempts) {
        throw this.#failure({ kind, stderr: result.stderr, attempts: attempt });
      }
      await sleep(Math.min(FIRST_BACKOFF_MS * 2 ** (attempt - 1), MAX_BACKOFF_MS), signal);
    }
  }

  #failure(options: { kind: SshFailureKind; stderr: string; attempts: number }) {
    return sshFailureError({
      ...options,
      endpoint: this.#endpoint,
      timeoutSeconds: this.#options.connectTimeoutSeconds,
    });
  }
}

/**
 * A path as an ssh option value: `%` is doubled (ssh expands `%h`-style tokens in these paths)
 * and whitespace is kept inside double quotes. Values ssh cannot take are refused by the schema.
 */
function sshPathValue(path: string): string {
  const escaped = path.replaceAll('%', '%%');
  return /\s/.test(escaped) ? `"${escaped}"` : escaped;
}

/** A 0700 folder with a path short enough for a unix socket. */
function privateDir(): string {
  const base = tmpdir();
  const parent =
    Buffer.byteLength(join(base, 'opsmate-ssh-XXXXXX', 'master')) <= MAX_CONTROL_PATH_BYTES ? base : '/tmp';
  return mkdtempSync(join(parent, 'opsmate-ssh-'));
}

function missingClient(ssh: string, error: NodeJS.ErrnoException): RuntimeError {
  return new RuntimeError(
    `ssh runtime: cannot run the OpenSSH client ${ssh}: ${error.code ?? error.message}`,
    {
      hint: 'install it (apt-get install openssh-client, or your OS equivalent)',
    },
  );
}

async function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
