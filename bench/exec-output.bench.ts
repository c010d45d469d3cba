// `opsmate exec` printing 1 GB against a bare Node stdin -> stdout relay of the same bytes
// (issue 15), in the same run, interleaved (A B, then B A), ROUNDS rounds: wall time from spawn to
// the last byte read by this process, and the peak RSS (VmHWM) of the Node process of each side.
//   ours:  node bin/opsmate.js exec -- 'head -c 1000000000 /dev/zero'   (stdout piped here)
//   relay: head -c 1000000000 /dev/zero | node -e 'process.stdin.pipe(process.stdout)'
// A third row, "engine alone", is the same command through the bare local runtime's API with its
// live output written to stdout (no CLI, no guard, no masking): the share of the engine.
// A fourth, "socketpair relay", is bare Node running the command as a child and piping the child's
// stdout to its own: the same relay over the socketpair that Node's spawn gives every child (and
// the engine its shell), instead of the shell's pipe. What the engine cannot do better than.
// Run with `npm run build && node --import tsx bench/exec-output.bench.ts` (BENCH_ROUNDS, BENCH_BYTES).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { machineLine, median, report } from './bench-support.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const BYTES = Number(process.env.BENCH_BYTES ?? 1_000_000_000);
const bin = fileURLToPath(new URL('../bin/opsmate.js', import.meta.url));
const home = mkdtempSync(join(tmpdir(), 'opsmate-exec-output-bench-'));
const engineScript = join(home, 'engine-alone.mjs');
writeFileSync(
  engineScript,
  `import { once } from 'node:events';
import { localRuntime } from ${JSON.stringify(fileURLToPath(new URL('../dist/runtimes/local/local-runtime.js', import.meta.url)))};
const runtime = localRuntime.create({ shell: '/bin/bash', env: {} }, { spillDir: ${JSON.stringify(home)}, outputLimitBytes: 65536, spillLimitBytes: 0 });
await runtime.connect();
await runtime.run(process.argv[2], { timeoutMs: 600000, onOutput: (chunk) => {
  if (!process.stdout.write(chunk.data)) return once(process.stdout, 'drain').then(() => undefined);
  return undefined;
} });
await runtime.disconnect();
`,
);

interface Sample {
  seconds: number;
  peakMiB: number;
}

/** Runs `argv`, counts its stdout, samples `/proc/PID/status` of the Node process `nodePid()`. */
async function measure(argv: string[], options: { nodeIsChild: boolean }): Promise<Sample> {
  const started = performance.now();
  const child = spawn(argv[0]!, argv.slice(1), {
    env: { ...process.env, OPSMATE_HOME: home, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let delivered = 0;
  child.stdout.on('data', (chunk: Buffer) => (delivered += chunk.length));
  let peakKiB = 0;
  const nodePid = (): number | undefined => {
    if (options.nodeIsChild) return child.pid;
    // The relay runs under `sh -c`: its Node process is the shell's child.
    try {
      const children = readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8')
        .trim()
        .split(' ');
      return children.map(Number).find((pid) => readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'node');
    } catch {
      return undefined;
    }
  };
  const sampler = setInterval(() => {
    try {
      const pid = nodePid();
      if (pid === undefined) return;
      const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (match) peakKiB = Math.max(peakKiB, Number(match[1]));
    } catch {
      // exited
    }
  }, 20);
  const status = await new Promise<number | null>((resolve) => child.on('close', resolve));
  clearInterval(sampler);
  if (status !== 0 || delivered !== BYTES)
    throw new Error(`${argv.join(' ')}: exit ${status}, ${delivered} bytes`);
  return { seconds: (performance.now() - started) / 1000, peakMiB: peakKiB / 1024 };
}

const ours = () =>
  measure([process.execPath, bin, 'exec', '--', `head -c ${BYTES} /dev/zero`], { nodeIsChild: true });
const relay = () =>
  measure(
    [
      '/bin/sh',
      '-c',
      `head -c ${BYTES} /dev/zero | '${process.execPath}' -e 'process.stdin.pipe(process.stdout)'`,
    ],
    { nodeIsChild: false },
  );

const engineAlone = () =>
  measure([process.execPath, engineScript, `head -c ${BYTES} /dev/zero`], { nodeIsChild: true });

const socketRelay = () =>
  measure(
    [
      process.execPath,
      '-e',
      `require('node:child_process').spawn('/bin/sh', ['-c', process.argv[1]], { stdio: ['ignore', 'pipe', 'inherit'] }).stdout.pipe(process.stdout)`,
      `head -c ${BYTES} /dev/zero`,
    ],
    { nodeIsChild: true },
  );

console.log(machineLine());
console.log(`rounds: ${ROUNDS} (A B, then B A), ${BYTES} bytes, stdout piped to this process`);
try {
  const a: Sample[] = [];
  const b: Sample[] = [];
  const ratios: number[] = [];
  const engine: Sample[] = [];
  const socket: Sample[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const pair = round % 2 === 0 ? [await ours(), await relay()] : [await relay(), await ours()].reverse();
    a.push(pair[0]!);
    b.push(pair[1]!);
    ratios.push(pair[0]!.seconds / pair[1]!.seconds);
    engine.push(await engineAlone());
    socket.push(await socketRelay());
  }
  const span = (values: number[], digits: number) =>
    `${Math.min(...values).toFixed(digits)}-${Math.max(...values).toFixed(digits)}`;
  const seconds = (samples: Sample[]) => samples.map((sample) => sample.seconds);
  const peaks = (samples: Sample[]) => samples.map((sample) => sample.peakMiB);
  report('opsmate exec printing 1 GB', `${median(seconds(a)).toFixed(2)} s (${span(seconds(a), 2)})`);
  report('bare Node stdin -> stdout relay', `${median(seconds(b)).toFixed(2)} s (${span(seconds(b), 2)})`);
  report(
    '  the engine alone (bare local runtime API)',
    `${median(seconds(engine)).toFixed(2)} s (${span(seconds(engine), 2)}) ${(median(seconds(engine)) / median(seconds(b))).toFixed(2)}x`,
  );
  report(
    '  bare Node relay over a socketpair',
    `${median(seconds(socket)).toFixed(2)} s (${span(seconds(socket), 2)}) ${(median(seconds(socket)) / median(seconds(b))).toFixed(2)}x`,
  );
  report(
    'exec / relay (rounds)',
    `${(median(seconds(a)) / median(seconds(b))).toFixed(2)}x (${span(ratios, 2)}x)`,
    '<= 1.3x',
  );
  report('peak RSS of opsmate exec (VmHWM)', `${Math.max(...peaks(a)).toFixed(0)} MiB`, '<= 110 MiB');
  report('peak RSS of the relay (VmHWM)', `${Math.max(...peaks(b)).toFixed(0)} MiB`);
} finally {
  rmSync(home, { recursive: true, force: true });
}
