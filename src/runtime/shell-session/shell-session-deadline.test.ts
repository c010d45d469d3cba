/**
 * A command's time limit holds on the target itself, not only through the side channel: on
 * transports whose side channel is a new connection (kubectl, gcloud, docker exec), or none at all
 * when the connection is lost, a stop sent from here comes late. The side channel here answers
 * 2.5 s late, so what stopped the command at about its limit can only be the watcher on the target.
 * Run on bash (the watcher started ahead, told its deadline through a pipe), dash and busybox sh
 * (the watcher started by the command's shell).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { co, type CoResult } from '../../process/child-process.js';
import { ShellSession } from './shell-session.js';

const shells = ['/bin/bash', '/bin/dash', '/bin/busybox'].filter((path) => existsSync(path));
const SIDE_CHANNEL_DELAY_MS = 2_500;
const scratch = mkdtempSync(join(tmpdir(), 'opsmate-deadline-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

function session(
  shell: string,
  options: { inBandDeadline?: boolean; sideChannelDelayMs?: number } = {},
): ShellSession {
  return new ShellSession({
    label: 'test runtime',
    transport: () => ({ argv: shell.endsWith('busybox') ? [shell, 'sh'] : [shell] }),
    spillDir: mkdtempSync(join(scratch, 'spill-')),
    ...(options.inBandDeadline !== undefined ? { inBandDeadline: options.inBandDeadline } : {}),
    sideChannel: async (script: string, args: string[]): Promise<CoResult> => {
      await sleep(options.sideChannelDelayMs ?? SIDE_CHANNEL_DELAY_MS);
      return co(['/bin/sh', '-c', script, 'sh', ...args], { timeoutMs: 10_000 });
    },
  });
}

/** Milliseconds from `start` to the last change of `file`. */
function lastWriteAfter(file: string, start: number): number {
  return statSync(file).mtimeMs - start;
}

/** The deadline watchers on this machine that watch the command of run marker `marker`. */
function watchersOf(marker: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let argv: string[];
    try {
      argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
    } catch {
      continue;
    }
    const at = argv.indexOf('opsmate-deadline');
    if (at >= 0 && argv[at + 1] === marker) found.push(entry);
  }
  return found;
}

/** Runs `sleep 0.6` and, while it runs, lists the watchers of its run marker. */
async function watchersWhileRunning(
  shellSession: ShellSession,
): Promise<{ during: string[]; marker: string }> {
  let marker = '';
  let seen!: () => void;
  const printed = new Promise<void>((resolve) => (seen = resolve));
  const running = shellSession.run('echo "$__OPSMATE_RUN"; sleep 0.6', {
    timeoutMs: 20_000,
    onOutput: ({ data }) => {
      marker += Buffer.from(data).toString();
      if (marker.includes('\n')) seen();
    },
  });
  await printed;
  marker = marker.trim();
  await sleep(200);
  const during = watchersOf(marker);
  await running;
  return { during, marker };
}

for (const shell of shells) {
  describe(`a command's limit kept on the target (${shell})`, () => {
    it('stops the command at its limit while the side channel is still connecting', async () => {
      const shellSession = session(shell);
      const ticks = join(scratch, `loop-${Date.now()}`);
      const start = Date.now();
      const result = await shellSession.run(`while :; do echo tick >> ${ticks}; sleep 0.05; done`, {
        timeoutMs: 1_000,
      });
      assert.equal(result.timedOut, true);
      assert.equal(result.timeoutKind, 'total');
      assert.equal(result.exitCode, null);
      assert.ok(result.durationMs >= SIDE_CHANNEL_DELAY_MS, 'the side channel was not slow');
      const last = lastWriteAfter(ticks, start);
      assert.ok(
        last < 1_000 + SIDE_CHANNEL_DELAY_MS - 800,
        `the loop still ran ${Math.round(last)} ms after start`,
      );
      await sleep(500);
      assert.equal(lastWriteAfter(ticks, start), last, 'the loop ran after the result');
      assert.equal((await shellSession.run('echo ok')).stdout, 'ok\n', 'the session works on');
      await shellSession.close();
    });

    it('stops a job the command double-forked away from its tree, found by its marker', async () => {
      const shellSession = session(shell);
      const ticks = join(scratch, `orphan-${Date.now()}`);
      const start = Date.now();
      const result = await shellSession.run(
        `( (while :; do echo tick >> ${ticks}; sleep 0.05; done) & ); sleep 30`,
        { timeoutMs: 1_000 },
      );
      assert.equal(result.timedOut, true);
      const last = lastWriteAfter(ticks, start);
      assert.ok(
        last < 1_000 + SIDE_CHANNEL_DELAY_MS - 800,
        `the orphan still ran ${Math.round(last)} ms after start`,
      );
      await shellSession.close();
    });

    it('says the stop is unconfirmed when the side channel never answers, though the command ended', async () => {
      // Slower than the engine's 3 s budget for the stop script: only the watcher acted.
      const shellSession = session(shell, { sideChannelDelayMs: 4_500 });
      const ticks = join(scratch, `unconfirmed-${Date.now()}`);
      const start = Date.now();
      const result = await shellSession.run(`while :; do echo tick >> ${ticks}; sleep 0.05; done`, {
        timeoutMs: 1_000,
      });
      assert.equal(result.timedOut, true);
      assert.equal(result.exitCode, null);
      assert.match(result.notice ?? '', /cannot confirm that none of its processes is left/);
      assert.doesNotMatch(result.notice ?? '', /nothing after that point ran/);
      assert.ok(lastWriteAfter(ticks, start) < 2_500, 'the watcher did not stop the loop');
      assert.equal((await shellSession.run('echo ok')).stdout, 'ok\n');
      await shellSession.close();
    });

    it('stops nothing but its own command when commands end before their limits', async () => {
      // A watcher whose command ended must never act: once, a watcher that took its parent for
      // its command watched init after a quick command ended, and at the limit stopped every
      // process on the machine. A canary outside the session must outlive many quick commands.
      const canary = spawn('sleep', ['30'], { detached: true, stdio: 'ignore' });
      const shellSession = session(shell);
      try {
        for (let index = 0; index < 10; index++) {
          const command = index % 2 === 0 ? 'true' : 'sleep 0.05 & echo started';
          assert.equal((await shellSession.run(command, { timeoutMs: 300 })).exitCode, 0);
        }
        await sleep(1_500);
        assert.ok(existsSync(`/proc/${canary.pid}`) && canary.exitCode === null, 'the canary was stopped');
        assert.equal((await shellSession.run('echo ok')).stdout, 'ok\n', 'the session was stopped');
      } finally {
        canary.kill('SIGKILL');
        await shellSession.close();
      }
    });

    it('leaves alone what a finished command left running', async () => {
      const shellSession = session(shell);
      const result = await shellSession.run('sleep 4 >/dev/null 2>&1 & echo $!', { timeoutMs: 300 });
      assert.equal(result.exitCode, 0);
      const pid = Number(result.stdout.trim());
      await sleep(1_500);
      assert.ok(existsSync(`/proc/${pid}`), 'the watcher killed a background job after its command ended');
      process.kill(pid, 'SIGKILL');
      await shellSession.close();
    });

    it('is nothing the command can see: no $!, no job, nothing to wait for, no variable', async () => {
      const shellSession = session(shell);
      const result = await shellSession.run(
        'echo "[$!]"; jobs -p | wc -l; env | grep -c "^__OPSMATE_DL=" || true; sleep 0.2 & wait; echo waited',
        { timeoutMs: 20_000 },
      );
      assert.deepEqual(
        result.stdout.split('\n').map((line) => line.trim()),
        ['[]', '0', '0', 'waited', ''],
      );
      assert.ok(result.durationMs < 5_000, `wait waited ${Math.round(result.durationMs)} ms`);
      await shellSession.close();
    });

    it('ends with its command, and none is started when the runtime turns it off', async () => {
      const on = session(shell);
      const watched = await watchersWhileRunning(on);
      assert.ok(watched.marker !== '', 'the command printed no run marker');
      assert.equal(watched.during.length, 1, 'not one watcher while the command ran');
      await sleep(1_500);
      assert.deepEqual(watchersOf(watched.marker), [], 'a watcher outlived its command');
      await on.close();

      const off = session(shell, { inBandDeadline: false });
      const unwatched = await watchersWhileRunning(off);
      assert.deepEqual(unwatched.during, [], 'a watcher was started with inBandDeadline: false');
      await off.close();
    });
  });
}
