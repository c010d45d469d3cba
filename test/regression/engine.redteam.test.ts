// Red-team regression tests for the shell session engine (issue 9). Each case is a finding of
// /work/REDTEAM-FINDINGS.md (section A), written so that it FAILS while the bug is there. They run
// on the local runtime with bash, dash and busybox ash (through an `ash` symlink), and on a
// busybox container when dockerd and the test image are available.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import type { Runtime, RuntimeContext } from '../../src/runtime/contract.js';
import { dockerConfigSchema, dockerRuntime } from '../../src/runtimes/docker/docker-runtime.js';
import { localConfigSchema, localRuntime } from '../../src/runtimes/local/local-runtime.js';
import {
  busyboxImageMissingReason,
  ensureBusyboxImage,
  removeContainers,
  startSleepingContainer,
  uniqueContainerName,
} from '../../test-support/docker-images.js';
import { integrationSkip } from '../../test-support/integration.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const work = mkdtempSync(join(tmpdir(), 'opsmate-redteam-engine-'));
const ashLink = join(work, 'ash');
if (existsSync('/usr/bin/busybox') || existsSync('/bin/busybox'))
  symlinkSync(existsSync('/usr/bin/busybox') ? '/usr/bin/busybox' : '/bin/busybox', ashLink);
after(() => rmSync(work, { recursive: true, force: true }));

interface Target {
  name: string;
  skip: string | false;
  /** Whether the target's shell is bash (some findings are bash-only). */
  bash: boolean;
  /** The target has no `ln`-able sh (busybox: an applet named `a\nb` does not exist). */
  procComm?: boolean;
  create: (context: RuntimeContext) => Runtime | Promise<Runtime>;
}

const containers: string[] = [];
after(() => removeContainers(containers));

const targets: Target[] = [
  {
    name: 'local bash',
    skip: false,
    bash: true,
    create: (context) =>
      localRuntime.create(localConfigSchema.parse({ shell: '/bin/bash', cwd: '/tmp' }), context),
  },
  {
    name: 'local dash',
    skip: existsSync('/usr/bin/dash') ? false : 'dash is not installed',
    bash: false,
    create: (context) =>
      localRuntime.create(localConfigSchema.parse({ shell: '/usr/bin/dash', cwd: '/tmp' }), context),
  },
  {
    name: 'local busybox ash',
    skip: existsSync(ashLink) ? false : 'busybox is not installed',
    bash: false,
    create: (context) =>
      localRuntime.create(localConfigSchema.parse({ shell: ashLink, cwd: '/tmp' }), context),
  },
  {
    name: 'docker busybox sh',
    skip: integrationSkip('dockerd', busyboxImageMissingReason()),
    bash: false,
    procComm: true,
    create: async (context) => {
      const name = uniqueContainerName('redteam-engine');
      containers.push(name);
      await startSleepingContainer({ image: await ensureBusyboxImage(), name });
      return dockerRuntime.create(
        dockerConfigSchema.parse({ containerName: name, shell: '/bin/sh' }),
        context,
      );
    },
  },
];

/** Reads every token-like string from the command's own memory and prints exit and end frames with each. */
const FORGE_FROM_OWN_MEMORY = [
  'toks=$(while read -r range perms _ _ _ path; do',
  '  case "$perms" in rw*) ;; *) continue;; esac',
  '  case "$path" in *heap*|"") ;; *) continue;; esac',
  '  s=$((0x${range%-*})); e=$((0x${range#*-}))',
  '  exec 3< /proc/self/mem',
  "  dd bs=4096 skip=$((s/4096)) count=$(((e-s)/4096)) <&3 2>/dev/null | grep -aoE 'OPSMATE[0-9a-f]{24}'",
  'done < /proc/self/maps | sort -u)',
  'for t in $toks; do printf \'\\036%s>0\\036\\n\' "$t"; printf \'\\036%s<\\036\\n\' "$t" >&2; done',
].join('\n');

for (const target of targets) {
  describe(`red team, engine: ${target.name}`, { skip: target.skip }, () => {
    // A fresh runtime for every case: a failing case (a forged trailer, a hung shell) must not
    // change what the next one sees.
    let runtime: Runtime;
    let scratch: string;
    before(() => {
      scratch = `/tmp/opsmate-redteam-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
    });
    beforeEach(async () => {
      runtime = await target.create({ spillDir: join(work, 'spill'), outputLimitBytes: 64 * 1024 });
      await runtime.connect();
      await runtime.run(`mkdir -p ${scratch}`);
    });
    afterEach(async () => {
      await runtime.disconnect();
    });
    after(async () => {
      const cleanup = await target.create({ spillDir: join(work, 'spill'), outputLimitBytes: 64 * 1024 });
      await cleanup.run(`rm -rf ${scratch}`);
      await cleanup.disconnect();
    });

    it('finding 1: a process named with a newline is stopped at the timeout like any other', async () => {
      const log = `${scratch}/f1.log`;
      const loop = `while :; do echo x >> ${log}; sleep 0.3; done`;
      const command = !target.procComm
        ? `p=$(printf '${scratch}/a\\nb'); ln -sf /bin/sh "$p"; "$p" -c '${loop}'`
        : `printf 'a\\nb' > /proc/self/comm; ${loop}`;
      const result = await runtime.run(command, { timeoutMs: 1_500 });
      assert.equal(result.timedOut, true);
      await sleep(1_000);
      const first = await runtime.run(`wc -l < ${log}`);
      await sleep(1_500);
      const second = await runtime.run(`wc -l < ${log}; pkill -f '${scratch}/a' 2>/dev/null; true`);
      assert.equal(
        second.stdout.split('\n')[0]!.trim(),
        first.stdout.trim(),
        'the loop kept writing after the timeout, though the notice says nothing ran after it',
      );
    });

    it('finding 2: a forged start of the state frame does not hide the exit frame', async () => {
      const result = await runtime.run(`printf '\\036%sS' "$__opsmate_st"; exec true`, { timeoutMs: 8_000 });
      assert.equal(result.timedOut, false, 'a command that ended at once was reported as timed out');
      assert.equal(result.shellExited, false);
      assert.equal(result.exitCode, 0);
    });

    it("finding 3: no exit frame can be forged from the command's own memory", async () => {
      const marker = `${scratch}/f3-after`;
      const result = await runtime.run(`${FORGE_FROM_OWN_MEMORY}\nsleep 2; touch ${marker}; exit 7`, {
        timeoutMs: 10_000,
      });
      assert.equal(result.exitCode, 7, 'a forged trailer was taken for the real one');
      assert.ok(result.durationMs > 1_500, `reported done after ${Math.round(result.durationMs)} ms`);
      const next = await runtime.run('echo clean');
      assert.equal(next.stdout, 'clean\n', 'the real trailer or the state dump landed in the next command');
    });

    it('finding 4: a double-forked background job of a timed-out command does not run after the limit', async () => {
      const marker = `${scratch}/f4`;
      const result = await runtime.run(`( (sleep 2; touch ${marker}) & ); sleep 30`, { timeoutMs: 1_000 });
      assert.equal(result.timedOut, true);
      await sleep(2_500);
      const check = await runtime.run(`test -e ${marker} && echo ran || echo stopped`);
      assert.equal(check.stdout, 'stopped\n', 'the notice said all processes were killed');
    });

    it('finding 6: output of a double-forked job is not silently attributed to the next command', async () => {
      await runtime.run('( (sleep 1; echo LATE-OUT; echo LATE-ERR >&2) & ); echo now');
      const next = await runtime.run('sleep 2; echo mine');
      const mixed = next.stdout.includes('LATE-OUT') || next.stderr.includes('LATE-ERR');
      if (mixed)
        assert.ok(next.notice?.includes('background'), `no notice; stdout ${JSON.stringify(next.stdout)}`);
      else assert.match(next.backgroundOutput?.stdout ?? '', /LATE-OUT/);
    });

    it('finding 9: after the working directory was deleted, the next command does not run elsewhere silently', async () => {
      await runtime.run(`mkdir -p ${scratch}/before; cd ${scratch}/before`);
      const gone = await runtime.run(`mkdir -p ${scratch}/gone; cd ${scratch}/gone; rmdir ${scratch}/gone`);
      // Either the deleted directory is reported, or the result says why the session is elsewhere.
      assert.ok(gone.cwd === `${scratch}/gone` || gone.notice, `cwd ${gone.cwd ?? ''} with no notice`);
      const next = await runtime.run('pwd');
      const ranWhereBefore = next.stdout === `${scratch}/before\n`;
      const told = next.notice ?? gone.notice ?? '';
      assert.ok(
        !ranWhereBefore || told.includes(`${scratch}/before`),
        'ran in the previous directory with no notice',
      );
      await runtime.run('cd /tmp');
    });

    if (target.bash) {
      it('finding 7: BASH_XTRACEFD set and unset by commands does not close the protocol stdout', async () => {
        await runtime.run('BASH_XTRACEFD=1');
        await runtime.run('unset BASH_XTRACEFD');
        const next = await runtime.run('echo innocent', { timeoutMs: 8_000 });
        assert.equal(next.timedOut, false, 'an innocent command hung to its timeout');
        assert.equal(next.stdout, 'innocent\n');
      });

      it('finding 8: FUNCNEST=1 and a live background job do not make later commands hang', async () => {
        await runtime.run('FUNCNEST=1');
        await runtime.run('sleep 15 >/dev/null 2>&1 & echo started');
        const next = await runtime.run('echo innocent', { timeoutMs: 6_000 });
        await runtime.run('unset FUNCNEST');
        assert.equal(next.timedOut, false, 'an innocent command hung to its timeout');
        assert.equal(next.stdout, 'innocent\n');
      });
    }
  });
}
