// Benchmarks of the local runtime and the CLI's cold start. Run: npm run bench (builds first).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { localRuntime } from '../src/runtimes/local/local-runtime.js';
import { machineLine, median, percentile, report } from './bench-support.js';

const CLI = new URL('../bin/opsmate.js', import.meta.url).pathname;
const spillDir = mkdtempSync(join(tmpdir(), 'opsmate-bench-'));

async function roundTrip(): Promise<void> {
  const runtime = localRuntime.create({ shell: '/bin/bash', env: {} }, { spillDir, outputLimitBytes: 65536 });
  await runtime.connect();
  for (let index = 0; index < 200; index++) await runtime.run('true');
  const samples: number[] = [];
  for (let index = 0; index < 2000; index++) {
    const started = performance.now();
    await runtime.run('true');
    samples.push(performance.now() - started);
  }
  report('local round trip of `true`, median', `${median(samples).toFixed(3)} ms`, '<= 1 ms');
  report('local round trip of `true`, p99', `${percentile(samples, 0.99).toFixed(3)} ms`);

  const bytes = 200_000_000;
  const started = performance.now();
  const result = await runtime.run(`head -c ${bytes} /dev/zero`, { timeoutMs: 600_000 });
  const seconds = (performance.now() - started) / 1000;
  if (result.stdoutBytes !== bytes) throw new Error(`got ${result.stdoutBytes} bytes`);
  report('200 MB output delivered (spill included)', `${(bytes / 1e6 / seconds).toFixed(0)} MB/s`, '>= 150 MB/s');
  await runtime.disconnect();
}

/** Peak RSS (VmHWM) of the CLI process while it runs a command printing 1 GB. */
async function peakRssOfCli(): Promise<void> {
  const child = spawn(process.execPath, [CLI, 'exec', '--', 'head -c 1000000000 /dev/zero'], {
    env: { ...process.env, OPSMATE_HOME: spillDir },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let delivered = 0;
  child.stdout.on('data', (chunk: Buffer) => (delivered += chunk.length));
  let peakKiB = 0;
  const sampler = setInterval(() => {
    try {
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      const match = /VmHWM:\s+(\d+) kB/.exec(status);
      if (match) peakKiB = Math.max(peakKiB, Number(match[1]));
    } catch {
      // exited
    }
  }, 20);
  await new Promise((resolve) => child.on('close', resolve));
  clearInterval(sampler);
  if (delivered !== 1_000_000_000) throw new Error(`CLI delivered ${delivered} bytes`);
  report('peak RSS of `opsmate exec` printing 1 GB', `${(peakKiB / 1024).toFixed(0)} MiB`, '<= 150 MB');
}

function coldStart(args: string[], label: string): void {
  const samples: number[] = [];
  for (let index = 0; index < 21; index++) {
    const started = performance.now();
    const result = spawnSync(process.execPath, [CLI, ...args], {
      env: { ...process.env, OPSMATE_HOME: spillDir },
      stdio: 'ignore',
    });
    samples.push(performance.now() - started);
    if (result.status !== 0) throw new Error(`${label} exited ${result.status}`);
  }
  report(`cold start of \`opsmate ${label}\`, median`, `${median(samples).toFixed(0)} ms`, '<= 300 ms');
}

console.log(machineLine());
try {
  await roundTrip();
  await peakRssOfCli();
  coldStart(['list-runtimes'], 'list-runtimes');
  coldStart(['exec', '--', 'true'], 'exec -- true');
} finally {
  rmSync(spillDir, { recursive: true, force: true });
}
