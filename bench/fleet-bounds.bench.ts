/**
 * Bounded resources of a fleet run (issue 14), not part of the tests: `opsmate exec -t all` over
 * an inventory of N local targets (`ansible_connection=local`), sampling the opsmate process's
 * open file descriptors and its peak RSS (VmHWM) every 50 ms. With parallelism 10, 200 targets
 * must hold about as many descriptors as 10 do, and memory must not grow with the count.
 *
 *   node --import tsx bench/fleet-bounds.bench.ts [--counts 10,200]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { machineLine } from './bench-support.js';

const CLI = fileURLToPath(new URL('../bin/opsmate.js', import.meta.url));
const index = process.argv.indexOf('--counts');
const counts = (index >= 0 ? process.argv[index + 1]! : '10,200').split(',').map(Number);

console.log(machineLine());
console.log(
  `load: ${loadavg()
    .map((value) => value.toFixed(2))
    .join(' ')}`,
);
const dir = mkdtempSync(join(tmpdir(), 'wt-targets-fleet-bounds-'));
try {
  for (const count of counts) {
    const inventory = join(dir, `hosts-${count}.ini`);
    writeFileSync(inventory, `[many]\nl[1:${count}] ansible_connection=local\n`);
    const child = spawn(
      process.execPath,
      [CLI, 'exec', '--inventory', inventory, '-t', 'all', '-o', 'json', '--', 'echo $$'],
      {
        env: { PATH: process.env.PATH, HOME: dir, OPSMATE_HOME: join(dir, 'home') },
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
    let maxFds = 0;
    let hwmKib = 0;
    const sampler = setInterval(() => {
      try {
        maxFds = Math.max(maxFds, readdirSync(`/proc/${child.pid}/fd`).length);
        hwmKib = Number(
          /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? hwmKib,
        );
      } catch {
        // exited between samples
      }
    }, 50);
    const status = await new Promise<number | null>((resolve) => child.on('close', resolve));
    clearInterval(sampler);
    const parsed = JSON.parse(stdout) as { summary: string; results: Array<{ stdout: string }> };
    const shells = new Set(parsed.results.map((result) => result.stdout)).size;
    console.log(
      `${String(count).padStart(4)} targets: exit ${status}, ${parsed.summary}, ${shells} distinct shells; most open fds ${maxFds}; peak RSS ${(hwmKib / 1024).toFixed(0)} MiB`,
    );
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
