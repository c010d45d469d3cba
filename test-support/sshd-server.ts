/**
 * A throwaway OpenSSH server on loopback for integration tests: its own host key, client key,
 * `authorized_keys` and config in a private temp folder, on a random free port of 127.0.0.1.
 *
 * ```ts
 * import { integrationSkip } from './integration.js';
 * import { sshdMissingReason, startSshd, type SshdServer } from './sshd-server.js';
 *
 * describe('over ssh', { skip: integrationSkip('sshd', sshdMissingReason()) }, () => {
 *   let server: SshdServer;
 *   before(async () => { server = await startSshd(); });
 *   after(async () => { await server?.stop(); });
 *   it('runs', async () => {
 *     // ssh -p server.port -i server.keyFile -o UserKnownHostsFile=server.knownHostsFile
 *     //     -l server.user server.host true
 *   });
 * });
 * ```
 *
 * The client key logs in as the user running the tests (`server.user`), and, when sshd runs as
 * root, as any local user whose account is not locked: `authorized_keys` is shared by all users.
 * Password login is off unless `passwordAuthentication: true`; creating a user with a password is
 * left to the test (see {@link ensurePasswordUser}), since that needs root. `extraConfig` lines
 * are appended last, so a `Match` block (e.g. a `ChrootDirectory` for one user) works there.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import {
  accessSync,
  chmodSync,
  constants,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.js';

/** Absolute path of the server binary the fixture runs. */
export const SSHD_BINARY = '/usr/sbin/sshd';
const SSH_KEYGEN_BINARY = 'ssh-keygen';
const READY_TIMEOUT_MS = 10_000;
const LISTENING = /Server listening on (?:\d+\.){3}\d+ port (\d+)/;

/**
 * Why a throwaway sshd cannot run on this machine (binary missing, no ssh-keygen, no ssh client),
 * or undefined when it can. Pass it to `integrationSkip('sshd', ...)`.
 */
export function sshdMissingReason(): string | undefined {
  try {
    accessSync(SSHD_BINARY, constants.X_OK);
  } catch {
    return `${SSHD_BINARY} is not installed (apt-get install -y openssh-server)`;
  }
  for (const tool of [SSH_KEYGEN_BINARY, 'ssh']) {
    try {
      execFileSync('sh', ['-c', 'command -v "$1"', 'sh', tool], { stdio: 'ignore' });
    } catch {
      return `${tool} is not on PATH (apt-get install -y openssh-client)`;
    }
  }
  return undefined;
}

export interface SshdServerOptions {
  /** Allow password logins (`PasswordAuthentication yes`). Default false. */
  passwordAuthentication?: boolean;
  /** Extra `sshd_config` lines, appended as given. */
  extraConfig?: string[];
  /** Loopback address to listen on (`127.0.14.7`); default `127.0.0.1`. */
  address?: string;
  /**
   * Run sshd in its own UTS namespace with this host name (root only, `unshare --uts`), so
   * `hostname` on each of many servers answers differently, as on separate machines.
   */
  hostname?: string;
  /** Prefix of its temp folder's name; default `opsmate-sshd-`. */
  dirPrefix?: string;
  /** Port to listen on (a test's own range); default a free random one. */
  port?: number;
  /** A client key to authorize instead of generating one (many servers, one key). */
  clientKeyFile?: string;
}

/** A running throwaway sshd. Every path is absolute and lives in {@link SshdServer.dir}. */
export interface SshdServer {
  /** The address it listens on: `127.0.0.1` unless `address` chose another. */
  readonly host: string;
  /** The port it listens on; kept across {@link SshdServer.restart}. */
  readonly port: number;
  /** The user who runs the tests; the client key logs in as this user. */
  readonly user: string;
  /** Private ed25519 client key (no passphrase, mode 0600) whose public half is authorized. */
  readonly keyFile: string;
  /**
   * A known_hosts file holding the server's current host key under `[127.0.0.1]:PORT`.
   * Rewritten by {@link SshdServer.restart} only when asked (`updateKnownHosts`).
   */
  readonly knownHostsFile: string;
  /** The known_hosts line for the current host key, e.g. `[127.0.0.1]:2222 ssh-ed25519 AAAA...`. */
  readonly knownHostsLine: string;
  /** The private temp folder holding config, keys and logs. Removed by {@link SshdServer.stop}. */
  readonly dir: string;
  /** Everything sshd logged so far (it runs with `-e`). */
  log(): string;
  /**
   * Kills sshd and every process it started (connections, sessions) with SIGKILL at once, like a
   * crash: every open connection drops. {@link SshdServer.restart} brings it back.
   */
  kill(): Promise<void>;
  /**
   * Starts sshd again on the same port (after {@link SshdServer.kill}, or killing it first).
   * `newHostKey: true` generates a different host key, as a reinstalled or impostor server would
   * have; `knownHostsFile` is left alone unless `updateKnownHosts` is true.
   */
  restart(options?: { newHostKey?: boolean; updateKnownHosts?: boolean }): Promise<void>;
  /** Kills everything and removes {@link SshdServer.dir}. Safe to call twice. */
  stop(): Promise<void>;
}

/** Starts a throwaway sshd on 127.0.0.1 and resolves once it is listening. */
export async function startSshd(options: SshdServerOptions = {}): Promise<SshdServer> {
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const dir = mkdtempSync(join(tmpdir(), options.dirPrefix ?? 'opsmate-sshd-'));
  const paths: Record<'hostKey' | 'clientKey' | 'authorizedKeys' | 'knownHosts' | 'config' | 'pid', string> =
    {
      hostKey: join(dir, 'host_key'),
      clientKey: join(dir, 'client_key'),
      authorizedKeys: join(dir, 'authorized_keys'),
      knownHosts: join(dir, 'known_hosts'),
      config: join(dir, 'sshd_config'),
      pid: join(dir, 'sshd.pid'),
    };
  const address = options.address ?? '127.0.0.1';
  generateKey(paths.hostKey);
  if (options.clientKeyFile) {
    paths.clientKey = options.clientKeyFile;
  } else generateKey(paths.clientKey);
  // sshd reads authorized_keys as the user logging in, who need not be the one running the tests;
  // the private keys stay 0600.
  chmodSync(dir, 0o755);
  writeFileSync(paths.authorizedKeys, readFileSync(`${paths.clientKey}.pub`), { mode: 0o644 });
  writeFileSync(
    paths.config,
    [
      `HostKey ${paths.hostKey}`,
      `PidFile ${paths.pid}`,
      `AuthorizedKeysFile ${paths.authorizedKeys}`,
      // The temp folder sits under the world-writable /tmp, which StrictModes refuses.
      'StrictModes no',
      'PubkeyAuthentication yes',
      `PasswordAuthentication ${options.passwordAuthentication ? 'yes' : 'no'}`,
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      'PermitRootLogin prohibit-password',
      'PrintMotd no',
      'PrintLastLog no',
      'MaxStartups 100',
      'MaxSessions 100',
      'LogLevel VERBOSE',
      ...(options.extraConfig ?? []),
      '',
    ].join('\n'),
  );

  let port = 0;
  let child: ChildProcess | undefined;
  let logText = '';
  let knownHostsLine = '';

  const writeKnownHosts = (): void => {
    const publicKey = readFileSync(`${paths.hostKey}.pub`, 'utf8').trim().split(/\s+/).slice(0, 2).join(' ');
    knownHostsLine = `[${address}]:${port} ${publicKey}`;
    writeFileSync(paths.knownHosts, `${knownHostsLine}\n`, { mode: 0o600 });
  };

  const launch = async (): Promise<void> => {
    const listening = await new Promise<number>((resolve, reject) => {
      const sshdArgs = ['-D', '-e', '-f', paths.config, '-p', String(port), '-o', `ListenAddress=${address}`];
      const started = options.hostname
        ? spawn(
            'unshare',
            [
              '--uts',
              'sh',
              '-c',
              'hostname "$1" && shift && exec "$@"',
              'sh',
              options.hostname,
              SSHD_BINARY,
              ...sshdArgs,
            ],
            { stdio: ['ignore', 'ignore', 'pipe'], detached: true },
          )
        : spawn(SSHD_BINARY, sshdArgs, { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
      child = started;
      let pending = '';
      const timer = setTimeout(() => {
        started.kill('SIGKILL');
        reject(new Error(`sshd did not start listening within ${READY_TIMEOUT_MS} ms:\n${pending}`));
      }, READY_TIMEOUT_MS);
      started.stderr?.on('data', (chunk: Buffer) => {
        const text = chunk.toString('utf8');
        logText += text;
        pending += text;
        const match = LISTENING.exec(pending);
        if (match) {
          clearTimeout(timer);
          resolve(Number(match[1]));
        }
      });
      started.on('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`sshd exited before listening (${signal ?? `status ${code}`}):\n${pending}`));
      });
    });
    port = listening;
  };

  // A free port can be taken between probing it and sshd binding it; try a few.
  for (let attempt = 1; ; attempt++) {
    port = options.port ?? (await freePort(address));
    try {
      await launch();
      break;
    } catch (error) {
      if (attempt >= 5) throw error;
    }
  }
  writeKnownHosts();

  const kill = async (): Promise<void> => {
    const running = child;
    child = undefined;
    if (!running?.pid || running.exitCode !== null || running.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => running.once('exit', () => resolve()));
    // Collect the whole tree first: once sshd dies, its children are re-parented and lost.
    for (const pid of [running.pid, ...descendantsOf(running.pid)]) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await exited;
  };

  let stopped = false;
  const server: SshdServer = {
    host: address,
    get port() {
      return port;
    },
    user: userInfo().username,
    keyFile: paths.clientKey,
    knownHostsFile: paths.knownHosts,
    get knownHostsLine() {
      return knownHostsLine;
    },
    dir,
    log: () => logText,
    kill,
    async restart(restartOptions = {}) {
      await kill();
      if (restartOptions.newHostKey) {
        rmSync(paths.hostKey, { force: true });
        rmSync(`${paths.hostKey}.pub`, { force: true });
        generateKey(paths.hostKey);
      }
      // The old listener's port may linger for a moment; retry briefly.
      for (let attempt = 1; ; attempt++) {
        try {
          await launch();
          break;
        } catch (error) {
          if (attempt >= 10) throw error;
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
      }
      if (restartOptions.updateKnownHosts) writeKnownHosts();
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return server;
}

/**
 * Creates (once) a local user that may log in with a password, and sets its password. Needs root;
 * returns a reason to skip when not root or when `useradd`/`chpasswd` are missing, else undefined.
 */
export function ensurePasswordUser(name: string, password: string): string | undefined {
  if (process.getuid?.() !== 0) return 'creating a password user needs root';
  const failed = ensureUser(name);
  if (failed) return failed;
  try {
    execFileSync('chpasswd', [], { input: `${name}:${password}\n`, stdio: ['pipe', 'pipe', 'pipe'] });
  } catch (error) {
    return `chpasswd failed: ${(error as Error).message}`;
  }
  return undefined;
}

/**
 * Creates (once) a local user that logs in with the shared key only (no password) and may run
 * `sudo -n` the commands in `commands` (`ALL`, or full paths), through a file in /etc/sudoers.d.
 * Needs root and sudo; returns a reason to skip when they are missing, else undefined.
 */
export function ensureSudoUser(name: string, commands: string): string | undefined {
  if (process.getuid?.() !== 0) return 'creating a sudo user needs root';
  if (!existsSync('/usr/bin/sudo')) return 'sudo is not installed (apt-get install sudo)';
  const failed = ensureUser(name, { keyLogin: true });
  if (failed) return failed;
  try {
    writeFileSync(`/etc/sudoers.d/${name}`, `${name} ALL=(root) NOPASSWD: ${commands}\n`, { mode: 0o440 });
  } catch (error) {
    return `setting up sudo for ${name} failed: ${(error as Error).message}`;
  }
  return undefined;
}

/**
 * Creates a local user unless it exists (`useradd` with `useraddArgs`, by default a home and
 * bash); with `keyLogin`, unlocks it for key login with no password (a new account is locked,
 * '!', and sshd refuses locked accounts even with a key; '*' means no password, no lock).
 * Returns why it failed, if it did. Needs root.
 */
export function ensureUser(
  name: string,
  options: { useraddArgs?: string[]; keyLogin?: boolean } = {},
): string | undefined {
  try {
    execFileSync('id', ['-u', name], { stdio: 'ignore' });
  } catch {
    try {
      execFileSync('useradd', [...(options.useraddArgs ?? ['--create-home', '--shell', '/bin/bash']), name], {
        stdio: 'pipe',
      });
    } catch (error) {
      return `useradd ${name} failed: ${(error as Error).message}`;
    }
  }
  if (!options.keyLogin) return undefined;
  try {
    execFileSync('usermod', ['--password', '*', name], { stdio: 'pipe' });
  } catch (error) {
    return `usermod ${name} failed: ${(error as Error).message}`;
  }
  return undefined;
}

function generateKey(path: string): void {
  execFileSync(SSH_KEYGEN_BINARY, ['-q', '-t', 'ed25519', '-N', '', '-C', 'opsmate-test', '-f', path], {
    stdio: 'ignore',
  });
}

/** Every process below `root`, read from /proc (Linux). */
function descendantsOf(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue;
    }
    const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    const list = children.get(parent) ?? [];
    list.push(Number(entry));
    children.set(parent, list);
  }
  const found: number[] = [];
  const todo = [root];
  while (todo.length > 0) {
    for (const child of children.get(todo.pop()!) ?? []) {
      found.push(child);
      todo.push(child);
    }
  }
  return found;
}

/**
 * The flags that point opsmate's ssh runtime at `server`: its address, the user and key it
 * accepts, and its known_hosts file with the `strict` policy, so nothing is learned on the way.
 */
export function sshRuntimeFlags(server: SshdServer): string[] {
  return [
    '--shell-command-runtime',
    'ssh',
    '--runtime-ssh-host',
    server.host,
    '--runtime-ssh-port',
    String(server.port),
    '--runtime-ssh-username',
    server.user,
    '--runtime-ssh-key-file',
    server.keyFile,
    '--runtime-ssh-known-hosts-file',
    server.knownHostsFile,
    '--runtime-ssh-known-hosts-policy',
    'strict',
  ];
}
