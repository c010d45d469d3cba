// What the plugin supervisor (src/plugins/plugin-supervisor.ts) adds to a command's start: the
// built CLI, cold, interleaved rounds, medians. Three ways to start the same command:
//   no plugins      - an opsmate home without plugins (nothing is supervised);
//   supervised      - two plugin runtimes installed: bin/opsmate.js runs the command in a child;
//   in-process      - the same home, main() called without its entry, as before the supervisor.
// Run with `npm run build && node --import tsx bench/plugin-startup.bench.ts`.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  placeInstalledPlugin,
  shellRuntimeModule,
  writePluginPackage,
} from '../test-support/plugin-fixtures.js';
import { machineLine, median, report } from './bench-support.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 21);
const root = fileURLToPath(new URL('..', import.meta.url));
const bin = join(root, 'bin', 'opsmate.js');
const scratch = mkdtempSync(join(tmpdir(), 'wt-plugfix-bench-'));
const inProcess = join(scratch, 'in-process.mjs');
writeFileSync(
  inProcess,
  `import { exitProcess, main } from ${JSON.stringify(join(root, 'dist', 'cli', 'main.js'))};
exitProcess(await main(process.argv.slice(2)));\n`,
);

const bare = join(scratch, 'bare');
const withPlugins = join(scratch, 'plugins-home');
for (const name of ['alpha', 'beta']) {
  const folder = writePluginPackage(join(scratch, 'src', name), {
    name: `opsmate-runtime-${name}`,
    runtime: name,
    files: { 'index.js': shellRuntimeModule({ name }) },
  });
  placeInstalledPlugin(join(withPlugins, 'plugins'), folder);
}

function time(script: string, args: string[], home: string): number {
  const started = performance.now();
  const result = spawnSync(process.execPath, [script, ...args], {
    env: { PATH: process.env.PATH, HOME: home, OPSMATE_HOME: home, NO_COLOR: '1' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const elapsed = performance.now() - started;
  if (result.status !== 0) throw new Error(`${args.join(' ')}: ${result.stderr.toString()}`);
  return elapsed;
}

const cases: Array<{ name: string; args: string[] }> = [
  { name: 'list-runtimes', args: ['list-runtimes'] },
  {
    name: 'exec -- true (plugin runtime alpha)',
    args: ['exec', '--shell-command-runtime', 'alpha', '--', 'true'],
  },
];

console.log(machineLine());
console.log(`rounds: ${ROUNDS}, interleaved`);
for (const { name, args } of cases) {
  const samples = { bare: [] as number[], supervised: [] as number[], inProcess: [] as number[] };
  for (let round = 0; round < ROUNDS; round++) {
    if (args[0] === 'list-runtimes') samples.bare.push(time(bin, args, bare));
    samples.supervised.push(time(bin, args, withPlugins));
    samples.inProcess.push(time(inProcess, args, withPlugins));
  }
  const supervised = median(samples.supervised);
  const before = median(samples.inProcess);
  if (samples.bare.length > 0) report(`${name}: no plugins`, `${median(samples.bare).toFixed(0)} ms`);
  report(`${name}: 2 plugins, in-process (before)`, `${before.toFixed(0)} ms`);
  report(`${name}: 2 plugins, supervised`, `${supervised.toFixed(0)} ms`);
  report(
    `${name}: supervisor cost`,
    `+${(supervised - before).toFixed(0)} ms (x${(supervised / before).toFixed(2)})`,
  );
}
rmSync(scratch, { recursive: true, force: true });
