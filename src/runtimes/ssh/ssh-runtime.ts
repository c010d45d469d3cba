import { accessSync, constants } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { envVarMap, stringList } from '../../config/schema-fields.js';
import { ConfigError, RuntimeError } from '../../errors/opsmate-error.js';
import type { CoResult } from '../../process/child-process.js';
import { defineRuntime, type RuntimeContext } from '../../runtime/contract.js';
import { ShellRuntime } from '../../runtime/shell-runtime.js';
import { isShellVariableName, shellQuote } from '../../runtime/shell-session/shell-quote.js';
import type { ShellExit, ShellTransport } from '../../runtime/shell-session/shell-session.js';
import { sshDiscovery } from './ssh-discovery.js';
import { SshConnection } from './ssh-connection.js';
import { userHostPort } from '../../targets/uri-parts.js';

const DEFAULT_SHELL = '/bin/bash';
const FALLBACK_SHELL = '/bin/sh';
const SIDE_CHANNEL_TIMEOUT_MS = 10_000;
const SHELL_QUERY_TIMEOUT_MS = 15_000;
/** Printed by the start script when the shell is missing; turned into a RuntimeError with a hint. */
const SHELL_MISSING = 'opsmate-shell-missing';
/** Options opsmate manages itself: overriding them would break the master connection. */
const MANAGED_OPTIONS = /^\s*(ControlMaster|ControlPath|ControlPersist)\s*[=\s]/i;

const noControlCharacters = (value: string): boolean =>
  ![...value].some((character) => character.charCodeAt(0) < 0x20 || character === '\x7f');
/** Paths ssh would misread: `${` starts an env var expansion, `"` ends a quoted value. */
const sshSafePath = (value: string): boolean =>
  noControlCharacters(value) && !value.includes('${') && !value.includes('"');

export const sshConfigSchema = z.object({
  host: z
    .string()
    .min(1, 'must not be empty')
    .refine(
      (value) => !value.startsWith('-') && !/\s/.test(value) && noControlCharacters(value),
      'must be a host name, an address or a Host alias from ~/.ssh/config (no spaces, not starting with -)',
    )
    .describe('Host to run commands on: a name, an address or a Host alias from ~/.ssh/config'),
  port: z
    .number()
    .int()
    .min(1)
    .max(65535)
    .optional()
    .describe('SSH port (default: 22, or the Port set for the host in ~/.ssh/config)'),
  username: z
    .string()
    .min(1)
    .refine(
      (value) => !value.startsWith('-') && noControlCharacters(value),
      'must be a user name (no control characters, not starting with -)',
    )
    .optional()
    .describe('User to log in as (default: your ~/.ssh/config, else your local user name)'),
  password: z
    .string()
    .refine((value) => !/[\r\n]/.test(value), 'cannot contain a line break')
    .optional()
    .meta({ secret: true })
    .describe(
      'Password for password authentication (prefer keys or an agent); give it through the env var, as a flag is visible in ps. opsmate never puts it in argv, logs or the remote environment',
    ),
  keyFile: z
    .string()
    .refine(sshSafePath, 'is not a path ssh can read (no control characters, `"` or `${`)')
    .optional()
    .describe('Private key file, as ssh -i; your agent and ~/.ssh/config identities still apply'),
  configFile: z
    .string()
    .refine(sshSafePath, 'is not a path ssh can read (no control characters, `"` or `${`)')
    .optional()
    .describe(
      'ssh client config file, as ssh -F (default: ~/.ssh/config, then /etc/ssh/ssh_config); its Host blocks apply to the host',
    ),
  shell: z
    .string()
    .min(1)
    .refine(noControlCharacters, 'must be a path without control characters')
    .default(DEFAULT_SHELL)
    .describe(
      `Shell on the remote host; ${FALLBACK_SHELL} is used when the default ${DEFAULT_SHELL} is missing`,
    ),
  timeout: z.number().int().min(1).max(3600).default(10).describe('Connect timeout, in seconds'),
  connectRetries: z
    .number()
    .int()
    .min(0)
    .max(20)
    .default(3)
    .describe('Further connection attempts, with backoff, after a failure that may be temporary'),
  knownHostsPolicy: z
    .enum(['accept-new', 'strict', 'off'])
    .default('accept-new')
    .describe(
      'Host key checking: accept-new records unknown hosts and refuses changed keys; strict only allows known hosts; off checks nothing (unsafe)',
    ),
  knownHostsFile: z
    .string()
    .refine(sshSafePath, 'is not a path ssh can read (no control characters, `"` or `${`)')
    .optional()
    .describe('known_hosts file to check and record host keys in (default: ~/.ssh/known_hosts)'),
  extraOptions: stringList()
    .refine(
      (options) => options.every((option) => noControlCharacters(option) && !MANAGED_OPTIONS.test(option)),
      'each must be one ssh -o option such as ProxyJump=bastion; ControlMaster/ControlPath/ControlPersist are managed by opsmate',
    )
    .describe('Extra ssh -o options, e.g. ProxyJump=bastion,Compression=yes; they take precedence'),
  env: envVarMap()
    .refine((env) => Object.keys(env).every(isShellVariableName), 'variable names must be like NAME_1')
    .describe('Environment variables for the remote commands, as k=v,k2=v2'),
});

export type SshConfig = z.output<typeof sshConfigSchema>;

class SshRuntime extends ShellRuntime {
  readonly #config: SshConfig;
  readonly #connection: SshConnection;
  #shell: string;

  constructor(config: SshConfig, context: RuntimeContext) {
    super({ name: 'ssh', context, env: config.env });
    this.#config = config;
    this.#shell = config.shell;
    this.#connection = new SshConnection({
      host: config.host,
      port: config.port,
      username: config.username,
      password: config.password,
      keyFile: config.keyFile,
      configFile: config.configFile,
      connectTimeoutSeconds: config.timeout,
      connectRetries: config.connectRetries,
      knownHostsPolicy: config.knownHostsPolicy,
      knownHostsFile: config.knownHostsFile,
      extraOptions: config.extraOptions,
    });
  }

  protected override async preflight(signal?: AbortSignal): Promise<void> {
    if (this.#config.keyFile !== undefined)
      checkReadable(this.#config.keyFile, {
        flag: '--runtime-ssh-key-file',
        env: 'RUNTIME_SSH_KEY_FILE',
        what: 'a private key file',
      });
    if (this.#config.configFile !== undefined)
      checkReadable(this.#config.configFile, {
        flag: '--runtime-ssh-config-file',
        env: 'RUNTIME_SSH_CONFIG_FILE',
        what: 'an ssh client config file',
      });
    try {
      await this.#connection.open(signal);
    } catch (error) {
      await this.#connection.close();
      throw error;
    }
  }

  override async connect(options: { signal?: AbortSignal } = {}): Promise<void> {
    try {
      await super.connect(options);
    } catch (error) {
      if (RuntimeError.isInstance(error) && error.message.includes(SHELL_MISSING)) {
        throw new RuntimeError(
          `ssh runtime: the shell ${this.#config.shell} does not exist on ${this.#where()}`,
          {
            hint: 'set --runtime-ssh-shell (env RUNTIME_SSH_SHELL) to an installed shell, e.g. /bin/sh',
          },
        );
      }
      throw error;
    }
  }

  protected override async transport(): Promise<ShellTransport> {
    await this.#connection.ensureMaster();
    return {
      argv: this.#connection.clientArgv(startShellScript(this.#config.shell)),
      env: this.#connection.environment(),
    };
  }

  protected override sideChannel(script: string, args: string[]): Promise<CoResult> {
    return this.#connection.exec(['sh', '-c', script, 'sh', ...args], { timeoutMs: SIDE_CHANNEL_TIMEOUT_MS });
  }

  protected override describeExit(exit: ShellExit): string | undefined {
    if (exit.exitCode !== 255) return undefined;
    // ssh says 255 both for a lost connection and for a remote shell killed by a signal; the
    // master removes its socket when the connection is gone.
    if (!this.#connection.masterSocketExists() || /closed by remote host|not responding/.test(exit.stderr)) {
      return `connection to ${this.#where()} lost`;
    }
    return `the shell on ${this.#where()} ended abnormally (killed by a signal?)`;
  }

  protected override async cleanup(): Promise<void> {
    await this.#connection.close();
  }

  async runtimeInfo(): Promise<string> {
    const { user, port } = this.#connection.endpoint;
    await this.#learnShell();
    const fellBack = this.#shell !== this.#config.shell;
    return [
      'Runtime: ssh. Commands run on a remote host over SSH, in a persistent shell: files, processes and services are those of the remote host, not of the machine running opsmate.',
      `Host: ${this.#config.host} (port ${port})`,
      `User: ${user || 'default'}`,
      `Shell: ${this.#shell}${fellBack ? ` (${this.#config.shell} is not installed there)` : ''}`,
      `Working directory: ${this.session.cwd ?? 'the login directory'}`,
      `Host key checking: ${this.#config.knownHostsPolicy}`,
    ].join('\n');
  }

  target(): Record<string, string> {
    const { host, port, user } = this.#connection.endpoint;
    return { host, port: String(port), ...(user ? { user } : {}) };
  }

  /** Which shell the remote start script chose, asked of the running shell (one round trip). */
  async #learnShell(): Promise<void> {
    if (this.#config.shell !== DEFAULT_SHELL || this.session.shellPid === undefined) return;
    const result = await this.run('printf %s "$0"', { timeoutMs: SHELL_QUERY_TIMEOUT_MS });
    if (result.exitCode === 0 && result.stdout.startsWith('/')) this.#shell = result.stdout;
  }

  #where(): string {
    const { host, port } = this.#connection.endpoint;
    return `${host}:${port}`;
  }
}

/**
 * The remote command that starts the session's shell, run by the user's login shell (POSIX sh
 * syntax): the configured shell if it is there, else /bin/sh when the default bash is missing,
 * else a message and status 127. Deciding there costs no extra SSH session, and every session pays
 * for the login shell's rc files (conda, nvm and pyenv hooks take hundreds of milliseconds).
 */
function startShellScript(shell: string): string {
  const candidates = shell === DEFAULT_SHELL ? [shell, FALLBACK_SHELL] : [shell];
  const tries = candidates.map((candidate) => {
    const test = candidate.includes('/')
      ? `[ -x ${shellQuote(candidate)} ]`
      : `command -v ${shellQuote(candidate)} >/dev/null 2>&1`;
    return `if ${test}; then exec ${shellQuote(candidate)}; fi`;
  });
  return [...tries, `echo ${shellQuote(`${SHELL_MISSING}: ${shell}`)} >&2`, 'exit 127'].join('; ');
}

function checkReadable(path: string, option: { flag: string; env: string; what: string }): void {
  // ssh expands ~ itself; only `~/` can be checked here without guessing other users' homes.
  if (path.startsWith('~') && !path.startsWith('~/')) return;
  try {
    accessSync(path.startsWith('~/') ? join(homedir(), path.slice(2)) : path, constants.R_OK);
  } catch (error) {
    throw new ConfigError(
      `${option.flag} ${path} cannot be read: ${(error as NodeJS.ErrnoException).code ?? 'error'}`,
      { hint: `point ${option.flag} (env ${option.env}) at ${option.what}` },
    );
  }
}

export const sshRuntime = defineRuntime({
  name: 'ssh',
  description: 'Runs commands on a remote host over SSH (the system OpenSSH client), in a persistent shell.',
  configSchema: sshConfigSchema,
  uri: {
    schemes: ['ssh'],
    usage: ['ssh://[user@]host[:port]'],
    fields: ({ body }) => {
      const { user, host, port } = userHostPort(body.replace(/\/$/, ''));
      return { host, ...(user ? { username: user } : {}), ...(port ? { port } : {}) };
    },
  },
  discover: sshDiscovery,
  create: (config, context) => new SshRuntime(config, context),
});
