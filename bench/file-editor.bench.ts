// FileEditor's byte transport (base64 over the runtime's shell session) against `docker cp`, the
// native path a docker runtime could add, reading and writing the same file in the same busybox
// and Debian containers, interleaved (A B, then B A), medians and ratios. Also the local runtime
// against a plain fs read, for scale. Run: node --import tsx bench/file-editor.bench.ts
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { TargetFiles, sha256Hex } from '../src/agent/tools/file-editor/target-files.js';
import type { Runtime } from '../src/runtime/contract.js';
import { dockerConfigSchema, dockerRuntime } from '../src/runtimes/docker/docker-runtime.js';
import { localRuntime } from '../src/runtimes/local/local-runtime.js';
import {
  ensureBusyboxImage,
  ensureDebianImage,
  removeContainers,
  startSleepingContainer,
  uniqueContainerName,
} from '../test-support/docker-images.js';
import { machineLine, median, report } from './bench-support.js';

const ROUNDS = 6;
const SIZES = [64 * 1024, 1024 * 1024, 8 * 1024 * 1024];

function payload(size: number): Buffer {
  const data = Buffer.alloc(size);
  for (let index = 0; index < size; index++) data[index] = (index * 131 + (index >> 8)) % 256;
  return data;
}

async function time(action: () => Promise<unknown> | unknown): Promise<number> {
  const started = performance.now();
  await action();
  return performance.now() - started;
}

/** Runs a and b in turn, ROUNDS times each, alternating which goes first. */
async function compare(
  label: string,
  a: [string, () => Promise<unknown> | unknown],
  b: [string, () => Promise<unknown> | unknown],
) {
  const times: Record<string, number[]> = { [a[0]]: [], [b[0]]: [] };
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? [a, b] : [b, a];
    for (const [name, action] of order) times[name]!.push(await time(action));
  }
  const ma = median(times[a[0]]!);
  const mb = median(times[b[0]]!);
  report(`${label}: ${a[0]}`, `${ma.toFixed(1)} ms`);
  report(`${label}: ${b[0]}`, `${mb.toFixed(1)} ms`);
  report(`${label}: ratio ${a[0]} / ${b[0]}`, `${(ma / mb).toFixed(2)}x`);
}

async function dockerCase(label: string, image: string, work: string, names: string[]): Promise<void> {
  const name = uniqueContainerName('bench-files');
  names.push(name);
  await startSleepingContainer({ image, name });
  const runtime: Runtime = dockerRuntime.create(dockerConfigSchema.parse({ containerName: name }), {
    spillDir: work,
    outputLimitBytes: 10_000,
  });
  await runtime.connect();
  const files = new TargetFiles({ runtime });
  for (const size of SIZES) {
    const data = payload(size);
    const local = join(work, `payload-${size}`);
    writeFileSync(local, data);
    const path = `/tmp/bench-${size}`;
    execFileSync('docker', ['cp', local, `${name}:${path}`]);
    const kib = `${size / 1024} KiB`;
    await compare(
      `${label} read ${kib}`,
      [
        'session base64',
        async () => {
          if (sha256Hex(await files.read(path, { maxBytes: size })) !== sha256Hex(data))
            throw new Error('corrupt');
        },
      ],
      ['docker cp', () => execFileSync('docker', ['cp', `${name}:${path}`, join(work, 'back')])],
    );
    await compare(
      `${label} write ${kib}`,
      [
        'session base64',
        async () => {
          const current = await files.read(path, { maxBytes: size });
          await files.write(path, data, { expect: { digest: sha256Hex(current) } });
        },
      ],
      ['docker cp', () => execFileSync('docker', ['cp', local, `${name}:${path}`])],
    );
  }
  await runtime.disconnect();
}

async function main(): Promise<void> {
  console.log(machineLine());
  console.log(
    `load average at start: ${loadavg()
      .map((value) => value.toFixed(2))
      .join(' ')}`,
  );
  const work = mkdtempSync(join(tmpdir(), 'opsmate-bench-files-'));
  const names: string[] = [];
  try {
    const runtime = localRuntime.create(localRuntime.configSchema.parse({}), {
      spillDir: work,
      outputLimitBytes: 10_000,
    });
    const files = new TargetFiles({ runtime });
    const path = join(work, 'local-1m');
    writeFileSync(path, payload(1024 * 1024));
    await compare(
      'local read 1024 KiB',
      ['session base64', () => files.read(path, { maxBytes: 1024 * 1024 })],
      ['fs.readFileSync', () => readFileSync(path)],
    );
    await runtime.disconnect();
    await dockerCase('docker busybox', await ensureBusyboxImage(), work, names);
    await dockerCase('docker debian', await ensureDebianImage(), work, names);
  } finally {
    await removeContainers(names);
    rmSync(work, { recursive: true, force: true });
    console.log(
      `load average at end: ${loadavg()
        .map((value) => value.toFixed(2))
        .join(' ')}`,
    );
  }
}

await main();
