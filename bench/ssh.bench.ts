/**
 * SSH runtime benchmark against a throwaway loopback sshd (not part of the tests).
 *
 *   node --import tsx bench/ssh.bench.ts [--commands 300] [--connects 10]
 *
 * Measures (1) the round trip of one command over an established session (target: median <= 3 ms
 * on loopback) and (2) the time to the first command's result from a fresh runtime, next to a
 * plain `ssh host true` that opens its own connection.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { startSshd } from '../test-support/sshd-server.js';
import { co } from '../src/process/child-process.js';
import { sshConfigSchema, sshRuntime } from '../src/runtimes/ssh/ssh-runtime.js';

const ROUND_TRIP_TARGET_MS = 3;

function option(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  const value = index >= 0 ? Number(process.argv[index + 1]) : NaN;
  return Number.isInteger(value) && value > 0 ? value : fallback;
}

function percentile(samples: number[], fraction: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))] ?? NaN;
}

function summary(samples: number[]): string {
  const mean = samples.reduce((sum, sample) => sum + sample, 0) / samples.length;
  return `median ${percentile(samples, 0.5).toFixed(2)} ms, p90 ${percentile(samples, 0.9).toFixed(2)} ms, mean ${mean.toFixed(2)} ms (n=${samples.length})`;
}

const commands = option('commands', 300);
const connects = option('connects', 10);
const server = await startSshd();
const spillDir = mkdtempSync(join(tmpdir(), 'opsmate-ssh-bench-'));
const config = sshConfigSchema.parse({
  host: server.host,
  port: server.port,
  username: server.user,
  keyFile: server.keyFile,
  knownHostsFile: server.knownHostsFile,
  knownHostsPolicy: 'strict',
});
const context = { spillDir, outputLimitBytes: 64 * 1024 };

try {
  const sshVersion = execFileSync('ssh', ['-V'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  console.log(
    `machine: ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}`,
  );
  console.log(
    `client: ${sshVersion.trim() || execFileSync('sh', ['-c', 'ssh -V 2>&1'], { encoding: 'utf8' }).trim()}`,
  );

  const runtime = sshRuntime.create(config, context);
  await runtime.connect();
  for (let i = 0; i < 20; i++) await runtime.run('true');
  const roundTrips: number[] = [];
  for (let i = 0; i < commands; i++) {
    const started = performance.now();
    const result = await runtime.run('true');
    roundTrips.push(performance.now() - started);
    if (result.exitCode !== 0) throw new Error(`true exited ${result.exitCode}`);
  }
  await runtime.disconnect();
  const median = percentile(roundTrips, 0.5);
  console.log(`round trip of 'true' over an established session: ${summary(roundTrips)}`);
  console.log(
    `  target <= ${ROUND_TRIP_TARGET_MS} ms: ${median <= ROUND_TRIP_TARGET_MS ? 'met' : 'NOT met'}`,
  );

  // Interleaved, so that load from other processes hits both columns alike.
  const firstCommand: number[] = [];
  const plain: number[] = [];
  const plainArgv = [
    'ssh',
    '-o',
    'BatchMode=yes',
    '-o',
    'ControlPath=none',
    '-o',
    `UserKnownHostsFile=${server.knownHostsFile}`,
    '-o',
    'StrictHostKeyChecking=yes',
    '-p',
    String(server.port),
    '-i',
    server.keyFile,
    '-l',
    server.user,
    '-T',
    '--',
    server.host,
    'true',
  ];
  for (let i = 0; i < connects; i++) {
    const fresh = sshRuntime.create(config, context);
    let started = performance.now();
    await fresh.run('true');
    firstCommand.push(performance.now() - started);
    await fresh.disconnect();

    started = performance.now();
    const result = await co(plainArgv, { timeoutMs: 30_000 });
    plain.push(performance.now() - started);
    if (result.exitCode !== 0) throw new Error(`plain ssh failed: ${result.stderr}`);
  }
  console.log(`fresh runtime to first result (master + shell): ${summary(firstCommand)}`);
  console.log(`plain 'ssh host true' (own connection): ${summary(plain)}`);
} finally {
  await server.stop();
  rmSync(spillDir, { recursive: true, force: true });
}
