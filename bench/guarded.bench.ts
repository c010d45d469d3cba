// The guarded runtime (policy + masking + audit log) against the same runtime unguarded: local
// round trips of `true`, interleaved call by call (A B A B) on one shell, in rounds; medians,
// min-max of the round medians, and the ratio. Then the parts of the guard on their own.
// Run: node --import tsx bench/guarded.bench.ts (npm run bench runs every bench).
import { closeSync, fdatasyncSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Runtime } from '../src/runtime/contract.js';
import { localRuntime } from '../src/runtimes/local/local-runtime.js';
import { AuditLog, type AuditSync } from '../src/safety/audit-log.js';
import { CommandPolicy } from '../src/safety/command-policy.js';
import { GuardedRuntime } from '../src/safety/guarded-runtime.js';
import { NoTerminalReviewer } from '../src/safety/reviewers.js';
import { SecretRedactor } from '../src/safety/secret-redactor.js';
import { machineLine, median, report } from './bench-support.js';

const ROUNDS = 5;
const CALLS_PER_ROUND = 400;
const WARMUP_CALLS = 200;
// The log goes where users keep it (the home file system), not a tmpfs that would hide fsync.
const dir = mkdtempSync(join(process.env.OPSMATE_BENCH_DIR ?? tmpdir(), 'opsmate-bench-guard-'));

function guard(inner: Runtime, sync: AuditSync, name: string): GuardedRuntime {
  return new GuardedRuntime({
    runtime: inner,
    policy: new CommandPolicy(),
    reviewer: new NoTerminalReviewer(),
    audit: new AuditLog(join(dir, `${name}.jsonl`), { sync }),
    redactor: new SecretRedactor({ env: process.env }),
  });
}

async function time(action: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await action();
  return performance.now() - started;
}

function summary(label: string, roundMedians: number[], all: number[]): number {
  const overall = median(all);
  report(label, `${overall.toFixed(3)} ms`, undefined);
  console.log(
    `${''.padEnd(52)} rounds ${roundMedians.map((value) => value.toFixed(3)).join(' / ')} ms (min ${Math.min(...roundMedians).toFixed(3)}, max ${Math.max(...roundMedians).toFixed(3)})`,
  );
  return overall;
}

/**
 * Read-only commands as an investigation runs them, each call a new text (so the policy's
 * decision cache does not answer): plain lines, pipelines, quotes and redirections.
 */
function investigationCommand(index: number): string {
  const forms = [
    (n: number) => `echo step-${n}`,
    (n: number) => `ls -d /tmp /var 2>/dev/null | head -n ${n}`,
    (n: number) => `grep -c processor /proc/cpuinfo | tail -n ${n}`,
    (n: number) => `cat /proc/loadavg | cut -d ' ' -f ${1 + (n % 3)}`,
    (n: number) => `uname -s && echo "run ${n}"`,
    (n: number) => `head -n ${1 + (n % 5)} /proc/meminfo`,
    (n: number) => `ps -o pid= -p 1 2>&1 | wc -l; echo ${n}`,
    (n: number) => `df -h / | awk 'NR==2 {print $5}' | head -n ${n}`,
  ];
  return forms[index % forms.length]!(index);
}

/** One sync mode against the bare runtime, call by call (A B, then B A), on the same shell. */
async function compare(
  inner: Runtime,
  sync: AuditSync,
  workload: { name: string; command: (index: number) => string },
): Promise<void> {
  const guarded = guard(inner, sync, sync);
  await guarded.connect();
  for (let index = 0; index < WARMUP_CALLS; index++) {
    await inner.run(workload.command(1_000_000 + index));
    await guarded.run(workload.command(1_000_000 + index));
  }
  const all = { bare: [] as number[], guarded: [] as number[] };
  const rounds = { bare: [] as number[], guarded: [] as number[] };
  for (let round = 0; round < ROUNDS; round++) {
    const these = { bare: [] as number[], guarded: [] as number[] };
    for (let index = 0; index < CALLS_PER_ROUND; index++) {
      const order = index % 2 === 0 ? (['bare', 'guarded'] as const) : (['guarded', 'bare'] as const);
      const command = workload.command(round * CALLS_PER_ROUND + index);
      for (const variant of order) {
        const runtime = variant === 'bare' ? inner : guarded;
        these[variant].push(await time(() => runtime.run(command)));
      }
    }
    for (const variant of ['bare', 'guarded'] as const) {
      rounds[variant].push(median(these[variant]));
      all[variant].push(...these[variant]);
    }
  }
  await guarded.disconnect();
  console.log(`${workload.name}, --audit-sync ${sync}:`);
  const bare = summary(`  unguarded local round trip, median`, rounds.bare, all.bare);
  const withGuard = summary(`  guarded, median`, rounds.guarded, all.guarded);
  const ratios = rounds.guarded.map((value, index) => value / rounds.bare[index]!);
  report(
    `  ratio guarded / unguarded`,
    `${(withGuard / bare).toFixed(2)}x`,
    `<= 1.3x; per round ${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)}x`,
  );
}

async function roundTrips(): Promise<void> {
  const inner = localRuntime.create(
    { shell: '/bin/bash', env: {} },
    { spillDir: join(dir, 'spill'), outputLimitBytes: 65536 },
  );
  await inner.connect();
  const workloads = [
    { name: '`true`', command: () => 'true' },
    { name: 'new read-only commands (pipelines, quotes, redirections)', command: investigationCommand },
  ];
  try {
    for (const workload of workloads) {
      await compare(inner, 'written', workload);
      await compare(inner, 'durable', workload);
    }
  } finally {
    await inner.disconnect();
  }
}

/** The guard's parts on their own, to show where its time goes. */
async function parts(): Promise<void> {
  const policy = new CommandPolicy();
  const scope = { runtime: 'local', target: { host: 'h' } };
  const checks: number[] = [];
  for (let index = 0; index < 5000; index++) {
    const started = performance.now();
    await policy.evaluate('true', scope);
    checks.push(performance.now() - started);
  }
  report(
    'policy check of `true` (remembered), median',
    `${(median(checks.slice(500)) * 1000).toFixed(1)} us`,
  );
  const fresh: number[] = [];
  for (let index = 0; index < 5000; index++) {
    const command = investigationCommand(index + 100_000);
    const started = performance.now();
    await policy.evaluate(command, scope);
    fresh.push(performance.now() - started);
  }
  report(
    'policy check of a new read-only command, median',
    `${(median(fresh.slice(500)) * 1000).toFixed(1)} us`,
  );

  for (const sync of ['durable', 'written'] as const) {
    const log = new AuditLog(join(dir, `parts-${sync}.jsonl`), { sync });
    log.open();
    const audits: number[] = [];
    for (let index = 0; index < 2000; index++) {
      const started = performance.now();
      const start = log.started({
        runtime: 'local',
        target: {},
        command: 'true',
        outcome: 'approved',
        decidedBy: 'policy',
      });
      log.finished(start, { exitCode: 0, durationMs: 0, outputBytes: 0 });
      audits.push(performance.now() - started);
      if (sync === 'durable') await start.durable;
    }
    await log.close();
    report(
      `audit started + finished records (${sync}), median`,
      `${(median(audits.slice(200)) * 1000).toFixed(1)} us`,
    );
  }

  const fd = openSync(join(dir, 'fsync-probe'), 'a');
  const syncs: number[] = [];
  const line = Buffer.from(`${'x'.repeat(400)}\n`);
  for (let index = 0; index < 1000; index++) {
    const started = performance.now();
    writeSync(fd, line);
    fdatasyncSync(fd);
    syncs.push(performance.now() - started);
  }
  closeSync(fd);
  report(
    'append + fdatasync on this file system, median',
    `${(median(syncs.slice(100)) * 1000).toFixed(1)} us`,
  );
}

console.log(machineLine());
console.log(`audit log folder: ${dir}`);
try {
  await roundTrips();
  await parts();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
