// Benchmarks of the docker runtime over a real dockerd. Run: node --import tsx bench/docker.bench.ts
// Builds the test images on first use (about a minute) and removes its containers at the end.
import { cpus, totalmem, tmpdir } from 'node:os';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { dockerConfigSchema, dockerRuntime } from '../src/runtimes/docker/docker-runtime.js';
import {
  ensureBusyboxImage,
  ensureDebianImage,
  removeContainers,
  startSleepingContainer,
  uniqueContainerName,
} from '../test-support/docker-images.js';

const WARMUP_RUNS = 200;
const MEASURED_RUNS = 2000;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

function percentile(values: number[], fraction: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))]!;
}

function report(name: string, value: string, target?: string): void {
  console.log(`${name.padEnd(52)} ${value.padStart(14)}${target ? `   (target ${target})` : ''}`);
}

async function bench(label: string, image: string, spillDir: string, names: string[]): Promise<void> {
  const name = uniqueContainerName('bench');
  names.push(name);
  await startSleepingContainer({ image, name });
  const runtime = dockerRuntime.create(dockerConfigSchema.parse({ containerName: name }), {
    spillDir,
    outputLimitBytes: 65536,
  });
  const connectStarted = performance.now();
  await runtime.connect();
  report(`${label}: connect (checks + shell start)`, `${(performance.now() - connectStarted).toFixed(0)} ms`);
  for (let index = 0; index < WARMUP_RUNS; index++) await runtime.run('true');
  const samples: number[] = [];
  for (let index = 0; index < MEASURED_RUNS; index++) {
    const started = performance.now();
    await runtime.run('true');
    samples.push(performance.now() - started);
  }
  report(`${label}: round trip of \`true\`, median`, `${median(samples).toFixed(3)} ms`, '<= 3 ms');
  report(`${label}: round trip of \`true\`, p99`, `${percentile(samples, 0.99).toFixed(3)} ms`);

  const bytes = 100_000_000;
  const started = performance.now();
  const result = await runtime.run(`head -c ${bytes} /dev/zero`, { timeoutMs: 600_000 });
  const seconds = (performance.now() - started) / 1000;
  if (result.stdoutBytes !== bytes) throw new Error(`got ${result.stdoutBytes} bytes`);
  report(`${label}: 100 MB output (spill included)`, `${(bytes / 1e6 / seconds).toFixed(0)} MB/s`);
  await runtime.disconnect();
}

const cpu = cpus();
console.log(
  `machine: ${cpu.length} x ${cpu[0]?.model ?? 'unknown cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}`,
);
const spillDir = mkdtempSync(join(tmpdir(), 'opsmate-bench-'));
const names: string[] = [];
try {
  await bench('docker (debian, bash)', await ensureDebianImage(), spillDir, names);
  await bench('docker (busybox, sh)', await ensureBusyboxImage(), spillDir, names);
} finally {
  await removeContainers(names);
  rmSync(spillDir, { recursive: true, force: true });
}
