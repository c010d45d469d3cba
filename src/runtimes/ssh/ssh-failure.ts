import { ConfigError, RuntimeError, type OpsmateError } from '../../errors/opsmate-error.js';

/** Why an `ssh` connection attempt failed, read from the client's stderr. */
export type SshFailureKind =
  | 'auth'
  | 'host-key-changed'
  | 'host-key-unknown'
  | 'host-key'
  | 'resolve'
  | 'refused'
  | 'timeout'
  | 'unreachable'
  | 'config'
  | 'other';

/** Failures worth another attempt: the server may be restarting or the network may recover. */
const RETRIED: ReadonlySet<SshFailureKind> = new Set(['refused', 'unreachable', 'other']);

const PATTERNS: ReadonlyArray<[SshFailureKind, RegExp]> = [
  ['host-key-changed', /REMOTE HOST IDENTIFICATION HAS CHANGED|Host key for \S+ has changed/],
  ['host-key-unknown', /No \S+ host key is known for|host key is not known/i],
  ['host-key', /Host key verification failed/],
  ['auth', /Permission denied \(|Too many authentication failures|Authentication failed/],
  [
    'config',
    /Bad configuration option|command-line: line \d+|Unsupported option|contains invalid characters|missing argument|Bad port|Invalid (?:argument|number)/,
  ],
  ['resolve', /Could not resolve hostname|Name or service not known|nodename nor servname/],
  ['refused', /Connection refused/],
  ['timeout', /timed out|Connection timed out|Operation timed out/i],
  [
    'unreachable',
    /No route to host|Network is unreachable|Connection reset|Connection closed by|kex_exchange_identification/,
  ],
];

export function classifySshFailure(stderr: string): SshFailureKind {
  for (const [kind, pattern] of PATTERNS) if (pattern.test(stderr)) return kind;
  return 'other';
}

export function isRetriedFailure(kind: SshFailureKind): boolean {
  return RETRIED.has(kind);
}

/** Where the runtime tried to connect, for messages. */
export interface SshEndpoint {
  /** As the user gave it (may be an ~/.ssh/config alias). */
  host: string;
  port: number;
  user: string;
  /** The known_hosts file that was consulted, or undefined for ssh's defaults. */
  knownHostsFile: string | undefined;
}

/** The last meaningful line ssh printed, without carriage returns and warnings about adding keys. */
export function lastSshLine(stderr: string): string {
  const lines = stderr
    .replaceAll('\r', '')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('Warning: Permanently added'));
  return lines[lines.length - 1] ?? '';
}

/**
 * One error, with a hint that says what to do, for a failed connection. The message is a single
 * line: ssh's multi-line banners are summarised, never repeated.
 */
export function sshFailureError(options: {
  kind: SshFailureKind;
  stderr: string;
  endpoint: SshEndpoint;
  attempts: number;
  timeoutSeconds: number;
}): OpsmateError {
  const { kind, stderr, endpoint } = options;
  const where = `${endpoint.host}:${endpoint.port}`;
  const label = 'ssh runtime';
  const said = lastSshLine(stderr);
  const tries = options.attempts > 1 ? ` (${options.attempts} attempts)` : '';
  switch (kind) {
    case 'host-key-changed': {
      const fingerprint = /SHA256:[A-Za-z0-9+/=]+/.exec(stderr)?.[0];
      const file = /Offending \S+ key in (.+):\d+/.exec(stderr)?.[1] ?? endpoint.knownHostsFile;
      const entry = endpoint.port === 22 ? endpoint.host : `[${endpoint.host}]:${endpoint.port}`;
      return new RuntimeError(
        `${label}: the host key of ${where} has CHANGED since it was recorded${file ? ` in ${file}` : ''}; this may be a man-in-the-middle attack, so opsmate refuses to connect`,
        {
          hint: `if the server was really reinstalled, confirm its new key${fingerprint ? ` (${fingerprint})` : ''} with its administrator, then remove the old one: ssh-keygen -R '${entry}'${file ? ` -f '${file}'` : ''}`,
        },
      );
    }
    case 'host-key-unknown':
      return new RuntimeError(
        `${label}: the host key of ${where} is not in known_hosts and --runtime-ssh-known-hosts-policy is strict`,
        {
          hint: `check its fingerprint and add it (ssh-keyscan -p ${endpoint.port} ${endpoint.host} >> ${endpoint.knownHostsFile ?? '~/.ssh/known_hosts'}), or use --runtime-ssh-known-hosts-policy accept-new`,
        },
      );
    case 'host-key':
      return new RuntimeError(`${label}: host key verification of ${where} failed`, {
        hint: said ? `ssh said: ${said}` : 'check the known_hosts entry for this host',
      });
    case 'auth':
      return new RuntimeError(`${label}: authentication as ${endpoint.user} on ${where} failed (${said})`, {
        hint: 'check --runtime-ssh-username, --runtime-ssh-key-file, --runtime-ssh-password or your ssh agent; a failed login is not retried',
      });
    case 'config':
      return new ConfigError(`${label}: ssh rejected the configuration: ${said}`, {
        hint: 'check --runtime-ssh-host, --runtime-ssh-username and --runtime-ssh-extra-options',
      });
    case 'resolve':
      return new RuntimeError(`${label}: cannot resolve the host name ${endpoint.host}`, {
        hint: 'check --runtime-ssh-host (an address, a DNS name or a Host alias from ~/.ssh/config)',
      });
    case 'refused':
      return new RuntimeError(`${label}: ${where} refused the connection${tries}`, {
        hint: 'check --runtime-ssh-host and --runtime-ssh-port, and that sshd runs there',
      });
    case 'timeout':
      return new RuntimeError(
        `${label}: ${where} did not answer within the ${options.timeoutSeconds}s connect timeout`,
        {
          hint: 'check the host, the port and firewalls; raise --runtime-ssh-timeout for a slow link',
        },
      );
    case 'unreachable':
    case 'other':
      return new RuntimeError(`${label}: cannot connect to ${where}${tries}: ${said || 'ssh failed'}`, {
        hint: 'run ssh by hand with -v to see more; --runtime-ssh-extra-options passes options to ssh',
      });
  }
}
