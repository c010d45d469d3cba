import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Runtime, RuntimeContext } from '../runtime/contract.js';

export interface ConformanceSuiteOptions {
  /** Shown in the test names, e.g. `ssh (bash)`. */
  name: string;
  /** Builds a fresh, unconnected runtime. Called once for the whole suite. */
  create: (context: RuntimeContext) => Runtime | Promise<Runtime>;
  /** A reason to skip the whole suite (e.g. sshd is not installed), or false to run it. */
  skip?: string | false;
  /** A folder on the target where the suite may create and remove files. Default `/tmp`. */
  scratchDir?: string;
}

/**
 * The hostile-input suite every runtime must pass: exact exit codes, stdin at EOF, syntax errors,
 * fake markers, timeouts that kill children and keep the session, `exit`, huge and binary output,
 * background jobs, concurrency. Call it at the top level of a `*.test.ts` file run by `node --test`.
 */
export function runtimeConformanceSuite(options: ConformanceSuiteOptions): void {
  const scratch = options.scratchDir ?? '/tmp';
  describe(`runtime conformance: ${options.name}`, { skip: options.skip || false }, () => {
    let runtime: Runtime;
    let spillDir: string;

    before(async () => {
      spillDir = mkdtempSync(join(tmpdir(), 'opsmate-conformance-'));
      runtime = await options.create({ spillDir, outputLimitBytes: 4096 });
      await runtime.connect();
    });
    after(async () => {
      await runtime?.disconnect();
      rmSync(spillDir, { recursive: true, force: true });
    });

    it('reports the exact exit code of every command', async () => {
      assert.equal((await runtime.run('true')).exitCode, 0);
      assert.equal((await runtime.run('false')).exitCode, 1);
      assert.equal((await runtime.run('(exit 42)')).exitCode, 42);
      const missing = await runtime.run('definitely-not-a-command-opsmate');
      assert.equal(missing.exitCode, 127);
      assert.match(missing.stderr, /not found/);
    });

    it('keeps stdout and stderr apart', async () => {
      const result = await runtime.run('echo out; echo err >&2; echo out2');
      assert.equal(result.stdout, 'out\nout2\n');
      assert.equal(result.stderr, 'err\n');
    });

    it('keeps the working directory, exported and shell variables between commands', async () => {
      await runtime.run(`cd ${scratch} && export OPSMATE_CONFORMANCE=exported && plain=shellvar`);
      const result = await runtime.run('pwd; echo "$OPSMATE_CONFORMANCE $plain"');
      assert.equal(result.stdout, `${scratch}\n${'exported shellvar'}\n`);
      assert.equal(result.cwd, scratch);
    });

    it('gives EOF at once to a command that reads stdin, and carries on', async () => {
      const cat = await runtime.run('cat', { timeoutMs: 20_000 });
      assert.equal(cat.timedOut, false);
      assert.equal(cat.exitCode, 0);
      const read = await runtime.run('read answer; echo "status $?"', { timeoutMs: 20_000 });
      assert.equal(read.timedOut, false);
      assert.equal(read.stdout, 'status 1\n');
      assert.equal((await runtime.run('echo alive')).stdout, 'alive\n');
    });

    it('reports syntax errors with the shell message and stays in sync', async () => {
      for (const broken of ['echo "unterminated', "echo 'unterminated", 'if true; then', 'echo $(', 'fi']) {
        const result = await runtime.run(broken, { timeoutMs: 20_000 });
        assert.equal(result.timedOut, false, broken);
        assert.notEqual(result.exitCode, 0, broken);
        assert.ok(result.stderr.length > 0, `no message for ${broken}`);
        assert.equal((await runtime.run('echo next')).stdout, 'next\n', `after ${broken}`);
      }
      const heredoc = await runtime.run('cat <<EOF\nno terminator', { timeoutMs: 20_000 });
      assert.equal(heredoc.timedOut, false);
      assert.equal((await runtime.run('echo after-heredoc')).stdout, 'after-heredoc\n');
    });

    it('cannot be fooled by output that looks like a marker', async () => {
      const result = await runtime.run(
        "printf '\\036OPSMATE0123>0\\037done\\037/\\037\\036OPSMATE0123<\\n'; printf '\\036\\036\\037 tail\\n'; echo done",
      );
      assert.equal(result.exitCode, 0);
      assert.equal(
        result.stdout,
        '\x1eOPSMATE0123>0\x1fdone\x1f/\x1f\x1eOPSMATE0123<\n\x1e\x1e\x1f tail\ndone\n',
      );
    });

    it('handles invalid UTF-8 and NUL bytes without losing sync', async () => {
      const result = await runtime.run("printf 'a\\377b\\000c\\n'");
      assert.equal(result.stdoutBytes, 6);
      assert.equal(result.stdout, 'a\uFFFDb\u0000c\n');
      assert.equal((await runtime.run('echo ok')).stdout, 'ok\n');
    });

    it('rejects a NUL byte inside the command with a clear result', async () => {
      const result = await runtime.run('echo a\0b');
      assert.notEqual(result.exitCode, 0);
      assert.match(result.stderr, /NUL/);
    });

    it('runs a 64 KiB command line and prints a long line', async () => {
      const word = 'x'.repeat(64 * 1024);
      const result = await runtime.run(`echo ${word} | wc -c`);
      assert.equal(result.stdout.trim(), String(word.length + 1));
    });

    it('keeps a head and a tail of big output and spills the whole of it', async () => {
      const bytes = 10 * 1024 * 1024;
      const result = await runtime.run(`head -c ${bytes} /dev/zero | tr '\\0' a; echo; echo end`, {
        timeoutMs: 120_000,
      });
      assert.equal(result.exitCode, 0);
      assert.equal(result.truncated, true);
      assert.equal(result.stdoutBytes, bytes + 5);
      assert.ok(result.stdout.length < 8 * 1024, `kept ${result.stdout.length} characters`);
      assert.match(result.stdout, /^a+\n\[\.\.\. \d+ bytes omitted/);
      assert.match(result.stdout, /end\n$/);
      const spill = result.spillFiles.stdout;
      assert.ok(spill, 'no spill file');
      assert.equal(statSync(spill).size, bytes + 5);
    });

    it('kills a timed-out command and its children, keeps the session clean', async () => {
      await runtime.run(`cd ${scratch}`);
      const marker = `${scratch}/opsmate-conformance-${process.pid}-${Date.now()}`;
      const result = await runtime.run(`echo started; (sleep 3; touch ${marker}) & sleep 60`, {
        timeoutMs: 1_000,
      });
      assert.equal(result.timedOut, true);
      assert.equal(result.timeoutKind, 'total');
      assert.match(result.stdout, /started/);
      assert.ok(result.notice, 'a timeout has a notice');
      const next = await runtime.run('echo clean; pwd');
      assert.equal(next.stdout, `clean\n${scratch}\n`);
      await new Promise((resolve) => setTimeout(resolve, 3_500));
      const check = await runtime.run(`test -e ${marker} && echo survived || echo killed`);
      assert.equal(check.stdout, 'killed\n', 'a child of the timed-out command was left running');
    });

    it('has an idle timeout that output resets', async () => {
      const result = await runtime.run('echo a; sleep 1; echo b; sleep 60', { idleTimeoutMs: 2_500 });
      assert.equal(result.timedOut, true);
      assert.equal(result.timeoutKind, 'idle');
      assert.equal(result.stdout, 'a\nb\n');
    });

    it('recovers from a busy loop inside the shell itself, restoring state', async () => {
      await runtime.run(`cd ${scratch}; export OPSMATE_KEEP=kept`);
      const result = await runtime.run('while :; do :; done', { timeoutMs: 1_000 });
      assert.equal(result.timedOut, true);
      const next = await runtime.run('pwd; echo "$OPSMATE_KEEP"');
      assert.equal(next.exitCode, 0);
      assert.equal(next.stdout, `${scratch}\nkept\n`);
    });

    it('reports exit, then starts a new shell in the same directory with the same exports', async () => {
      await runtime.run(`cd ${scratch}; export OPSMATE_AFTER_EXIT=still-here`);
      const exited = await runtime.run('exit 3');
      assert.equal(exited.exitCode, 3);
      assert.equal(exited.shellExited, true);
      const next = await runtime.run('pwd; echo "$OPSMATE_AFTER_EXIT"');
      assert.equal(next.stdout, `${scratch}\nstill-here\n`);
      const plainExit = await runtime.run('exit');
      assert.equal(plainExit.shellExited, true);
      assert.equal((await runtime.run('echo back')).stdout, 'back\n');
    });

    it('does not wait for a background job', async () => {
      const result = await runtime.run('sleep 30 & echo started', { timeoutMs: 20_000 });
      assert.equal(result.timedOut, false);
      assert.equal(result.stdout, 'started\n');
      assert.equal((await runtime.run('echo next')).stdout, 'next\n');
      await runtime.run('kill %1 2>/dev/null; true');
    });

    it('cancels a command through an AbortSignal', async () => {
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 500);
      const result = await runtime.run('echo begun; sleep 60', { signal: controller.signal });
      assert.equal(result.cancelled, true);
      assert.equal((await runtime.run('echo after-cancel')).stdout, 'after-cancel\n');
    });

    it('serialises concurrent runs', async () => {
      const results = await Promise.all(
        [1, 2, 3, 4, 5].map((index) => runtime.run(`echo start-${index}; sleep 0.1; echo end-${index}`)),
      );
      results.forEach((result, position) => {
        assert.equal(result.stdout, `start-${position + 1}\nend-${position + 1}\n`);
      });
    });

    it('sets a non-interactive environment', async () => {
      const result = await runtime.run('echo "$PAGER $GIT_PAGER $GIT_TERMINAL_PROMPT"');
      assert.equal(result.stdout, 'cat cat 0\n');
    });

    it('answers the facts the model is told', async () => {
      assert.ok((await runtime.whoami!()).length > 0);
      assert.match(await runtime.osInfo!(), /\S/);
      assert.equal(typeof (await runtime.hasSystemd!()), 'boolean');
      assert.match(await runtime.runtimeInfo(), /\S/);
    });
  });
}
