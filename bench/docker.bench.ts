// Benchmarks of the docker runtime over a real dockerd. Run: node --import tsx bench/docker.bench.ts
// Builds the test images on first use (about a minute) and removes its containers at the end.
import { execFile } from 'node:child_process';
import { loadavg, tmpdir } from 'node:os';
import { promisify } from 'node:util';
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
import { machineLine, median, percentile, report } from './bench-support.js';

const WARMUP_RUNS = 200;
const MEASURED_RUNS = 2000;

const ROUNDS = 9;
const run = promisify(execFile);

/**
 * Issue 15: a new runtime to its first result (checks, shell start, `true`) against a plain
 * `docker exec CONTAINER true`, interleaved A B A B, medians and the ratio.
 */
async function firstResult(label: string, container: string, spillDir: string): Promise<void> {
  const ours: number[] = [];
  const plain: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    let started = performance.now();
    const runtime = dockerRuntime.create(dockerConfigSchema.parse({ containerName: container }), {
      spillDir,
      outputLimitBytes: 65536,
    });
    await runtime.connect();
    await runtime.run('true');
    ours.push(performance.now() - started);
    await runtime.disconnect();
    started = performance.now();
    await run('docker', ['exec', container, 'true']);
    plain.push(performance.now() - started);
  }
  const range = (values: number[]) => `${Math.min(...values).toFixed(0)}-${Math.max(...values).toFixed(0)}`;
  report(
    `${label}: new runtime to first result, median (min-max)`,
    `${median(ours).toFixed(0)} ms (${range(ours)})`,
  );
  report(`${label}: plain docker exec, median (min-max)`, `${median(plain).toFixed(0)} ms (${range(plain)})`);
  report(`${label}: ratio`, `${(median(ours) / median(plain)).toFixed(2)}x`, '<= 1.4x');
}

async function bench(label: string, image: string, spillDir: string, names: string[]): Promise<void> {
  const name = uniqueContainerName('bench');
  names.push(name);
  await startSleepingContainer({ image, name });
  await firstResult(label, name, spillDir);
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

console.log(machineLine());
console.log(
  `load average at start: ${loadavg()
    .map((load) => load.toFixed(2))
    .join(' ')}`,
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
