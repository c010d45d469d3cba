// Issue 15: the round trip of `true` through the runtime against the same shell driven raw over a
// pipe, in the same run, call by call (A B, then B A), in rounds; medians, p99, the rounds' min-max
// and the ratio. Local bash and dash, and ssh over a loopback sshd (the raw pipe there is a plain
// `ssh -T host bash` over a ControlMaster opened the same way as the runtime's own).
// Each pair is measured back to back and after a 10 ms pause (an agent's model turn always leaves
// the shell idle between two commands: what a shell does ahead of the next command shows there).
// Run: node --import tsx bench/round-trip.bench.ts [--rounds 5] [--calls 300]
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Runtime } from '../src/runtime/contract.js';
import { localRuntime } from '../src/runtimes/local/local-runtime.js';
import { SshConnection } from '../src/runtimes/ssh/ssh-connection.js';
import { sshConfigSchema, sshRuntime } from '../src/runtimes/ssh/ssh-runtime.js';
import { startSshd } from '../test-support/sshd-server.js';
import { machineLine, median, percentile, report } from './bench-support.js';

function option(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  const value = index >= 0 ? Number(process.argv[index + 1]) : NaN;
  return Number.isInteger(value) && value > 0 ? value : fallback;
}

const ROUNDS = option('rounds', 5);
const CALLS = option('calls', 300);
const WARMUP = 50;
const PAUSE_MS = 10;
const spillDir = mkdtempSync(join(tmpdir(), 'opsmate-bench-rt-'));

/** A shell read over a pipe: each call writes `true` and a marker line, and waits for the marker. */
class RawPipe {
  readonly #child: ChildProcessWithoutNullStreams;
  #waiting: (() => void) | undefined;
  #seen = '';

  constructor(argv: string[], env?: NodeJS.ProcessEnv) {
    this.#child = spawn(argv[0]!, argv.slice(1), {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: env ?? process.env,
    });
    this.#child.stdout.on('data', (chunk: Buffer) => {
      this.#seen += chunk.toString('latin1');
      if (this.#seen.endsWith('\x1e\n')) {
        this.#seen = '';
        this.#waiting?.();
      }
    });
  }

  /** Runs `command` (default `true`) in the shell itself and waits for its marker. */
  run(command = 'true'): Promise<void> {
    return new Promise((resolve) => {
      this.#waiting = resolve;
      this.#child.stdin.write(`${command}; printf '\\036\\n'\n`);
    });
  }

  close(): void {
    this.#child.stdin.end();
    this.#child.kill();
  }
}

async function time(action: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await action();
  return performance.now() - started;
}

async function compare(label: string, ours: Runtime, raw: RawPipe): Promise<void> {
  for (let index = 0; index < WARMUP; index++) {
    await ours.run('true');
    await raw.run();
  }
  for (const pause of [0, PAUSE_MS]) {
    const all = { ours: [] as number[], raw: [] as number[] };
    const rounds = { ours: [] as number[], raw: [] as number[] };
    for (let round = 0; round < ROUNDS; round++) {
      const these = { ours: [] as number[], raw: [] as number[] };
      for (let index = 0; index < CALLS; index++) {
        const order = index % 2 === 0 ? (['ours', 'raw'] as const) : (['raw', 'ours'] as const);
        for (const variant of order) {
          if (pause) await sleep(pause);
          these[variant].push(await time(() => (variant === 'ours' ? ours.run('true') : raw.run())));
        }
      }
      for (const variant of ['ours', 'raw'] as const) {
        rounds[variant].push(median(these[variant]));
        all[variant].push(...these[variant]);
      }
    }
    const how = pause ? `after a ${pause} ms pause` : 'back to back';
    const rangeOf = (values: number[]) =>
      `${Math.min(...values).toFixed(3)}-${Math.max(...values).toFixed(3)} ms`;
    for (const variant of ['ours', 'raw'] as const) {
      report(
        `${label}, ${how}: ${variant === 'ours' ? 'runtime' : 'raw pipe'} median (p99)`,
        `${median(all[variant]).toFixed(3)} ms (${percentile(all[variant], 0.99).toFixed(2)})`,
      );
      console.log(`${''.padEnd(52)} round medians ${rangeOf(rounds[variant])}`);
    }
    const ratios = rounds.ours.map((value, index) => value / rounds.raw[index]!);
    report(
      `${label}, ${how}: ratio median (p99)`,
      `${(median(all.ours) / median(all.raw)).toFixed(1)}x (${(percentile(all.ours, 0.99) / percentile(all.raw, 0.99)).toFixed(1)}x)`,
      label.startsWith('ssh') ? '<= 1.5x' : '<= 2x',
    );
    console.log(
      `${''.padEnd(52)} per round ${Math.min(...ratios).toFixed(1)}-${Math.max(...ratios).toFixed(1)}x`,
    );
  }
}

async function local(shell: string): Promise<void> {
  const runtime = localRuntime.create({ shell, env: {} }, { spillDir, outputLimitBytes: 65536 });
  await runtime.connect();
  const raw = new RawPipe([shell]);
  try {
    await compare(`local ${shell}`, runtime, raw);
  } finally {
    raw.close();
    await runtime.disconnect();
  }
}

/**
 * The floor of any design that runs each command in a process of its own, on the same raw pipe:
 * `true` in the shell itself, in a forked subshell `( true )`, and in a new shell `bash -c true`.
 */
async function floor(): Promise<void> {
  const raw = new RawPipe(['/bin/bash']);
  const forms = ['true', '( true )', '/bin/bash -c true'];
  const samples = new Map(forms.map((form) => [form, [] as number[]]));
  try {
    for (let index = 0; index < WARMUP; index++) for (const form of forms) await raw.run(form);
    for (let index = 0; index < ROUNDS * CALLS; index++) {
      const order = index % 2 === 0 ? forms : [...forms].reverse();
      for (const form of order) samples.get(form)!.push(await time(() => raw.run(form)));
    }
  } finally {
    raw.close();
  }
  const base = median(samples.get('true')!);
  for (const form of forms) {
    const values = samples.get(form)!;
    console.log(
      `raw bash pipe running \`${form}\`: median ${median(values).toFixed(3)} ms, p99 ${percentile(values, 0.99).toFixed(2)} ms, ${(median(values) / base).toFixed(1)}x the raw pipe`,
    );
  }
}

async function ssh(): Promise<void> {
  const server = await startSshd();
  const settings = {
    host: server.host,
    port: server.port,
    username: server.user,
    keyFile: server.keyFile,
    knownHostsFile: server.knownHostsFile,
    knownHostsPolicy: 'strict' as const,
  };
  const runtime = sshRuntime.create(sshConfigSchema.parse(settings), { spillDir, outputLimitBytes: 65536 });
  const connection = new SshConnection({
    ...settings,
    connectTimeoutSeconds: 10,
    connectRetries: 1,
    extraOptions: [],
  });
  let raw: RawPipe | undefined;
  try {
    await runtime.connect();
    await connection.open();
    raw = new RawPipe(connection.clientArgv('exec bash'), connection.environment());
    await compare('ssh bash', runtime, raw);
  } finally {
    raw?.close();
    await runtime.disconnect();
    await connection.close();
    await server.stop();
  }
}

console.log(machineLine());
console.log(
  `load average at start: ${loadavg()
    .map((load) => load.toFixed(2))
    .join(' ')}`,
);
try {
  await floor();
  await local('/bin/bash');
  await local('/bin/dash');
  if (!process.argv.includes('--no-ssh')) await ssh();
} finally {
  console.log(
    `load average at end: ${loadavg()
      .map((load) => load.toFixed(2))
      .join(' ')}`,
  );
  rmSync(spillDir, { recursive: true, force: true });
}
