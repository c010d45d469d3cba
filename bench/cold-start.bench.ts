// Cold start of the built CLI against `node -e 0` on the same machine, in the same run (issue 15):
// the commands and the baseline are started in turn (A B C ..., then again), ROUNDS times, and
// each row prints its median, min-max and its ratio to the baseline's median. "unbundled" runs
// the same command through the plain tsc modules (dist/cli/main.js), which is what opsmate ran
// before the CLI bundle and still runs under the plugin supervisor.
// OPSMATE_BENCH_BASELINE=DIR adds the same commands of another built checkout (e.g. main before
// a change) to the same interleaved rounds.
// Run with `npm run build && node --import tsx bench/cold-start.bench.ts` (BENCH_ROUNDS=N).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { machineLine, median, report } from './bench-support.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 15);
const root = fileURLToPath(new URL('..', import.meta.url));
const bin = join(root, 'bin', 'opsmate.js');
const scratch = mkdtempSync(join(tmpdir(), 'opsmate-cold-bench-'));
const unbundled = join(scratch, 'unbundled.mjs');
writeFileSync(
  unbundled,
  `import { exitProcess, main } from ${JSON.stringify(join(root, 'dist', 'cli', 'main.js'))};
exitProcess(await main(process.argv.slice(2)));\n`,
);

interface Case {
  name: string;
  argv: string[];
}
const cases: Case[] = [
  { name: 'node -e 0', argv: ['-e', '0'] },
  { name: 'opsmate list-runtimes', argv: [bin, 'list-runtimes'] },
  { name: 'opsmate exec -- true', argv: [bin, 'exec', '--', 'true'] },
  { name: 'opsmate --version', argv: [bin, '--version'] },
  { name: 'unbundled: list-runtimes', argv: [unbundled, 'list-runtimes'] },
  { name: 'unbundled: exec -- true', argv: [unbundled, 'exec', '--', 'true'] },
];

const baselineDir = process.env.OPSMATE_BENCH_BASELINE;
if (baselineDir) {
  const before = join(baselineDir, 'bin', 'opsmate.js');
  cases.push(
    { name: 'baseline: list-runtimes', argv: [before, 'list-runtimes'] },
    { name: 'baseline: exec -- true', argv: [before, 'exec', '--', 'true'] },
  );
}

// The machine's environment, as a user's shell has it: it changes Node's own start-up (here
// NODE_EXTRA_CA_CERTS makes every Node process read the CA bundle, ~30 ms), so both sides get it.
// BENCH_CLEAN_ENV=1 starts both with PATH only.
const env = {
  ...(process.env.BENCH_CLEAN_ENV === '1' ? { PATH: process.env.PATH } : process.env),
  HOME: scratch,
  OPSMATE_HOME: scratch,
  NO_COLOR: '1',
};

function time({ argv }: Case): number {
  const started = performance.now();
  const result = spawnSync(process.execPath, argv, {
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const elapsed = performance.now() - started;
  if (result.status !== 0) throw new Error(`${argv.join(' ')}: ${result.stderr.toString()}`);
  return elapsed;
}

console.log(machineLine());
console.log(
  `rounds: ${ROUNDS}, interleaved; ratio = median / median of node -e 0; environment: ${process.env.BENCH_CLEAN_ENV === '1' ? 'PATH only' : `the machine's${process.env.NODE_EXTRA_CA_CERTS ? ' (NODE_EXTRA_CA_CERTS set)' : ''}`}`,
);
const samples = cases.map(() => [] as number[]);
for (const one of cases) time(one); // warm the page cache
for (let round = 0; round < ROUNDS; round++) {
  for (const [index, one] of cases.entries()) samples[index]!.push(time(one));
}
const baseline = median(samples[0]!);
for (const [index, { name }] of cases.entries()) {
  const values = samples[index]!;
  const target = index === 1 || index === 2 ? '<= 1.8x' : undefined;
  report(
    `cold start: ${name}`,
    `${median(values).toFixed(0)} ms (${Math.min(...values).toFixed(0)}-${Math.max(...values).toFixed(0)}) ${(median(values) / baseline).toFixed(2)}x`,
    target,
  );
}
rmSync(scratch, { recursive: true, force: true });
