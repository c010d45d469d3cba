import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import type { Runtime, RunResult, RuntimeContext } from '../runtime/contract.js';

export interface PrivilegeSuiteOptions {
  /** Shown in the test names, e.g. `ssh (bash) as a sudoer`. */
  name: string;
  /** Builds a fresh, unconnected runtime. */
  create: (context: RuntimeContext) => Runtime | Promise<Runtime>;
  /** A reason to skip the whole suite, or false to run it. */
  skip?: string | false;
  /** A folder on the target that the target's user and root may both write. Default `/tmp`. */
  scratchDir?: string;
  /**
   * What the target's user may do with sudo: `any` (NOPASSWD for every command, the usual cloud VM
   * user) means a timeout must stop everything; `limited` (sudo for some commands, not `kill`)
   * means what could not be stopped must be named. Default: found out on the target, and the
   * suite skips (with the reason) where the user is root or has no password-less sudo.
   */
  sudo?: 'any' | 'limited';
}

const WAIT_AFTER_MS = 3_500;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * What a timeout or a cancel does to a command that runs processes as another user through sudo
 * (the user cannot signal them itself). Either every one of them is stopped and nothing after the
 * limit runs, or the result names the processes that refused the signals: it never says "all
 * were killed" when some were not.
 */
export function privilegeConformanceSuite(options: PrivilegeSuiteOptions): void {
  const scratchRoot = options.scratchDir ?? '/tmp';
  describe(
    `runtime conformance: ${options.name}, commands under sudo`,
    { skip: options.skip || false },
    () => {
      let runtime: Runtime;
      let spillDir: string;
      let scratch: string;
      let sudo: 'any' | 'limited' | undefined;
      let notApplicable: string | undefined;

      before(async () => {
        spillDir = mkdtempSync(join(tmpdir(), 'opsmate-privilege-'));
        runtime = await options.create({ spillDir, outputLimitBytes: 4096 });
        await runtime.connect();
        const made = await runtime.run(
          `d=${scratchRoot}/opsmate-privilege-$$-$(date +%s); mkdir -m 1777 "$d" && echo "$d"`,
        );
        scratch = made.stdout.trim();
        const probe = await runtime.run(
          'id -u; sudo -n true </dev/null >/dev/null 2>&1 && echo sudo; sudo -n sh -c "exit 0" </dev/null >/dev/null 2>&1 && echo sh',
        );
        const [uid, ...abilities] = probe.stdout.trim().split('\n');
        if (uid === '0') notApplicable = "the target's user is root: nothing it runs refuses its signals";
        else if (options.sudo) sudo = options.sudo;
        else if (abilities.includes('sudo')) sudo = 'any';
        else if (abilities.includes('sh')) sudo = 'limited';
        else notApplicable = "the target's user cannot run `sudo -n sh` without a password";
      });
      after(async () => {
        if (scratch) await runtime?.run(`sudo -n rm -rf ${scratch} 2>/dev/null || rm -rf ${scratch}`);
        await runtime?.disconnect();
        rmSync(spillDir, { recursive: true, force: true });
      });

      function applies(t: TestContext): boolean {
        if (notApplicable) t.skip(notApplicable);
        return !notApplicable;
      }

      /** Stopped in full, or the refusals named; `any` sudo must stop in full. */
      async function assertStoppedOrNamed(result: RunResult, markers: string[]): Promise<void> {
        assert.equal(result.exitCode, null, 'an interrupted command reported an exit code');
        await sleep(WAIT_AFTER_MS);
        const check = await runtime.run(
          `for f in ${markers.join(' ')}; do test -e "$f" && echo "$f"; done; true`,
        );
        const ran = check.stdout.trim();
        const named = /refused the signals/.test(result.notice ?? '');
        if (sudo === 'any') {
          assert.equal(ran, '', `ran after the limit: ${ran}`);
          assert.match(result.notice ?? '', /all its processes were stopped/);
        } else {
          assert.ok(named, `not named as unstopped: ${result.notice ?? '(no notice)'}`);
          assert.doesNotMatch(result.notice ?? '', /all its processes were stopped/);
        }
        await runtime.run(`sudo -n pkill -KILL -f ${scratch} 2>/dev/null; true`);
      }

      it('stops, or names, what a timed-out command runs through sudo: a list, a job, a trap', async (t) => {
        if (!applies(t)) return;
        const [a, b, c] = [`${scratch}/job`, `${scratch}/trap`, `${scratch}/list`];
        const result = await runtime.run(
          `sudo -n sh -c '(sleep 2; touch ${a}) & trap "" TERM HUP INT; sleep 2; touch ${b}'; touch ${c}`,
          { timeoutMs: 1_000 },
        );
        assert.equal(result.timedOut, true);
        await assertStoppedOrNamed(result, [a, b, c]);
      });

      it('stops, or names, a loop under sudo that is cancelled', async (t) => {
        if (!applies(t)) return;
        const marker = `${scratch}/loop`;
        const controller = new AbortController();
        setTimeout(() => controller.abort(), 700);
        const result = await runtime.run(`sudo -n sh -c 'while :; do sleep 2; touch ${marker}; done'`, {
          signal: controller.signal,
          timeoutMs: 30_000,
        });
        assert.equal(result.cancelled, true);
        await assertStoppedOrNamed(result, [marker]);
      });

      it('keeps the session usable afterwards', async (t) => {
        if (!applies(t)) return;
        const result = await runtime.run('echo fine; (exit 3)');
        assert.equal(result.stdout, 'fine\n');
        assert.equal(result.exitCode, 3);
      });
    },
  );
}
