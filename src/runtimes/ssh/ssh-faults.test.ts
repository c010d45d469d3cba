import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { integrationSkip } from '../../../test-support/integration.js';
import { sshdMissingReason, startSshd, type SshdServer } from '../../../test-support/sshd-server.js';
import { ConfigError, OpsmateError, RuntimeError } from '../../errors/opsmate-error.js';
import type { Runtime } from '../../runtime/contract.js';
import { sshConfigSchema, sshRuntime, type SshConfig } from './ssh-runtime.js';

const skip = integrationSkip('sshd', sshdMissingReason());

describe('ssh runtime faults', { skip }, () => {
  let server: SshdServer;
  let work: string;
  const runtimes: Runtime[] = [];

  before(async () => {
    server = await startSshd();
    work = mkdtempSync(join(tmpdir(), 'opsmate-ssh-faults-'));
  });
  after(async () => {
    for (const runtime of runtimes) await runtime.disconnect();
    await server?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  function create(overrides: Record<string, unknown> = {}): Runtime {
    const config: SshConfig = sshConfigSchema.parse({
      host: server.host,
      port: server.port,
      username: server.user,
      keyFile: server.keyFile,
      knownHostsFile: server.knownHostsFile,
      timeout: 5,
      ...overrides,
    });
    const runtime = sshRuntime.create(config, { spillDir: work, outputLimitBytes: 64 * 1024 });
    runtimes.push(runtime);
    return runtime;
  }

  /** A known_hosts file of its own, empty, so a test can watch what gets recorded. */
  function emptyKnownHosts(name: string): string {
    const path = join(work, name);
    writeFileSync(path, '');
    return path;
  }

  /** Number of TCP connections sshd accepted so far (LogLevel VERBOSE logs each one). */
  function connectionsSeen(): number {
    return server.log().match(/Connection from 127\.0\.0\.1 port \d+/g)?.length ?? 0;
  }

  async function rejection(promise: Promise<unknown>): Promise<OpsmateError> {
    try {
      await promise;
    } catch (error) {
      assert.ok(OpsmateError.isInstance(error), `not an opsmate error: ${String(error)}`);
      assert.doesNotMatch(error.message, /\n/, 'the message is one line');
      return error;
    }
    assert.fail('expected a rejection');
  }

  it('says the connection was lost when sshd dies mid-command, then reconnects and restores cwd', async () => {
    const runtime = create();
    await runtime.run('cd /tmp && export OPSMATE_SURVIVES=yes');
    let started!: () => void;
    const outputSeen = new Promise<void>((resolve) => (started = resolve));
    const running = runtime.run('echo started; sleep 30; echo never', {
      onOutput: (chunk) => {
        if (Buffer.from(chunk.data).toString().includes('started')) started();
      },
    });
    await outputSeen;
    await server.kill();
    const result = await running;
    assert.equal(result.shellExited, true);
    assert.equal(result.timedOut, false);
    assert.match(result.notice ?? '', /connection to 127\.0\.0\.1:\d+ lost/);
    assert.doesNotMatch(result.stdout, /never/);

    // While the server is down, the next command cannot start a shell: a clear rejection.
    const down = create({ connectRetries: 1 });
    const error = await rejection(down.connect());
    assert.match(error.message, /refused the connection \(2 attempts\)/);

    await server.restart();
    const next = await runtime.run('pwd; echo "$OPSMATE_SURVIVES"');
    assert.equal(next.exitCode, 0);
    assert.equal(next.stdout, '/tmp\nyes\n');
  });

  it('refuses a changed host key with a man-in-the-middle warning, and does not retry', async () => {
    const knownHosts = emptyKnownHosts('changed-key');
    const first = create({ knownHostsFile: knownHosts, knownHostsPolicy: 'accept-new' });
    assert.equal((await first.run('echo hello')).stdout, 'hello\n');
    // Debian's ssh_config hashes known_hosts entries, so look the host up the way ssh does.
    const found = execFileSync('ssh-keygen', ['-F', `[127.0.0.1]:${server.port}`, '-f', knownHosts], {
      encoding: 'utf8',
    });
    assert.match(found, /ssh-ed25519 /, 'accept-new recorded the key');

    await server.restart({ newHostKey: true });
    const before = connectionsSeen();
    const second = create({ knownHostsFile: knownHosts, knownHostsPolicy: 'accept-new' });
    const error = await rejection(second.connect());
    assert.ok(RuntimeError.isInstance(error));
    assert.match(error.message, /host key of 127\.0\.0\.1:\d+ has CHANGED/);
    assert.match(error.message, /man-in-the-middle/);
    assert.match(error.hint ?? '', /ssh-keygen -R '\[127\.0\.0\.1\]:\d+' -f /);
    assert.match(error.hint ?? '', /SHA256:/);
    assert.equal(connectionsSeen() - before, 1, 'a host key failure is not retried');

    // The runtime that was connected before also refuses to reconnect to the impostor.
    const again = await rejection(first.run('echo reconnect'));
    assert.match(again.message, /man-in-the-middle/);
    await server.restart({ updateKnownHosts: true });
  });

  it('with the strict policy, refuses a host that is not in known_hosts', async () => {
    const knownHosts = emptyKnownHosts('strict');
    const runtime = create({ knownHostsFile: knownHosts, knownHostsPolicy: 'strict' });
    const error = await rejection(runtime.connect());
    assert.match(error.message, /not in known_hosts and --runtime-ssh-known-hosts-policy is strict/);
    assert.match(error.hint ?? '', /ssh-keyscan/);
    assert.equal(readFileSync(knownHosts, 'utf8'), '', 'strict records nothing');
  });

  it('with the off policy, connects without recording anything', async () => {
    const knownHosts = emptyKnownHosts('off');
    const runtime = create({ knownHostsFile: knownHosts, knownHostsPolicy: 'off' });
    assert.equal((await runtime.run('echo unchecked')).stdout, 'unchecked\n');
    assert.equal(readFileSync(knownHosts, 'utf8'), '');
  });

  it('fails with a clear error on a port nobody listens on', async () => {
    const port = await closedPort();
    const runtime = create({ port, connectRetries: 2, timeout: 2 });
    const error = await rejection(runtime.connect());
    assert.match(
      error.message,
      new RegExp(`127\\.0\\.0\\.1:${port} refused the connection \\(3 attempts\\)`),
    );
    assert.match(error.hint ?? '', /--runtime-ssh-port/);
  });

  it('gives up after the connect timeout when the port never speaks SSH', async () => {
    const silent = await silentServer();
    try {
      const runtime = create({ port: silent.port, timeout: 1, connectRetries: 3 });
      const error = await rejection(runtime.connect());
      assert.match(error.message, /did not answer within the 1s connect timeout/);
      assert.equal(silent.accepted(), 1, 'a timeout is not retried: the time was already spent');
    } finally {
      silent.close();
    }
  });

  it('does not retry a failed login, and says so in one line', async () => {
    const wrongKey = join(work, 'wrong_key');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', wrongKey]);
    const before = connectionsSeen();
    const runtime = create({ keyFile: wrongKey, connectRetries: 3 });
    const error = await rejection(runtime.connect());
    assert.match(error.message, /authentication as \S+ on 127\.0\.0\.1:\d+ failed \(.*Permission denied/);
    assert.match(error.hint ?? '', /not retried/);
    assert.equal(connectionsSeen() - before, 1, 'only one connection attempt');
  });

  it('reports a missing key file before running ssh', async () => {
    const runtime = create({ keyFile: join(work, 'no-such-key') });
    const error = await rejection(runtime.connect());
    assert.ok(ConfigError.isInstance(error));
    assert.match(error.message, /--runtime-ssh-key-file .* cannot be read: ENOENT/);
  });

  it('turns an ssh option that ssh rejects into a config error, before connecting', async () => {
    const before = connectionsSeen();
    const error = await rejection(create({ extraOptions: ['NoSuchOption=1'] }).connect());
    assert.ok(ConfigError.isInstance(error));
    assert.match(error.message, /ssh rejected the configuration: .*Bad configuration option: nosuchoption/);
    assert.equal(connectionsSeen(), before);
    const managed = sshConfigSchema.safeParse({ host: 'h', extraOptions: ['ControlPath=/tmp/x'] });
    assert.equal(managed.success, false, 'ControlPath is managed by opsmate');
  });

  it('reports a shell that the host does not have', async () => {
    const runtime = create({ shell: '/no/such/shell' });
    const error = await rejection(runtime.connect());
    assert.match(error.message, /the shell \/no\/such\/shell does not exist on 127\.0\.0\.1:\d+/);
    assert.match(error.hint ?? '', /--runtime-ssh-shell/);
  });

  it('never executes config values with shell metacharacters, here or on the host', async () => {
    // The "remote" host is this machine, so one marker file catches both local and remote injection.
    const marker = join(work, 'pwned');
    const payloads = [
      `x; touch ${marker}`,
      `$(touch ${marker})`,
      `\`touch ${marker}\``,
      `x' ; touch ${marker}; '`,
    ];
    for (const payload of payloads) {
      assert.equal(sshConfigSchema.safeParse({ host: payload }).success, false, `host ${payload} is refused`);

      const asUser = create({ username: payload, connectRetries: 0 });
      await rejection(asUser.connect());

      const asShell = create({ shell: payload, connectRetries: 0 });
      await rejection(asShell.connect());

      const asKey = create({ keyFile: `/tmp/${payload}`, connectRetries: 0 });
      await rejection(asKey.connect());

      const withEnv = create({ env: { OPSMATE_PAYLOAD: payload } });
      assert.equal((await withEnv.run('printf "%s\\n" "$OPSMATE_PAYLOAD"')).stdout, `${payload}\n`);
      await withEnv.disconnect();
    }
    assert.equal(existsSync(marker), false, 'a config value was executed');
  });

  it('describes the target and cleans up its master connection', async () => {
    const masters = (): string[] =>
      execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' })
        .split('\n')
        .filter((line) => line.includes('ControlPersist') && line.includes(String(server.port)));
    const mastersBefore = masters().length;
    const runtime = create();
    await runtime.connect();
    assert.deepEqual(runtime.target(), { host: '127.0.0.1', port: String(server.port), user: server.user });
    const info = await runtime.runtimeInfo();
    assert.match(info, /Runtime: ssh/);
    assert.match(info, new RegExp(`Host: 127\\.0\\.0\\.1 \\(port ${server.port}\\)`));
    assert.match(info, /Shell: \/bin\/bash/);
    assert.equal(masters().length, mastersBefore + 1, 'a master connection runs while connected');
    await runtime.disconnect();
    assert.equal(masters().length, mastersBefore, 'disconnect stops the master connection');
  });
});

async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const address = probe.address();
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return typeof address === 'object' && address ? address.port : 1;
}

/** A TCP server on loopback that accepts connections and never says a word. */
async function silentServer(): Promise<{ port: number; accepted: () => number; close: () => void }> {
  const sockets: Socket[] = [];
  const server: Server = createServer((socket) => {
    sockets.push(socket);
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : 0,
    accepted: () => sockets.length,
    close: () => {
      for (const socket of sockets) socket.destroy();
      server.close();
    },
  };
}
