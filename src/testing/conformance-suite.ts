import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Runtime, RunResult, RuntimeContext } from '../runtime/contract.js';
import { requestOnTarget } from '../runtime/target-http.js';
import { runtimeContractSuite, SHELL_CONTRACT_COMMANDS } from './contract-suite.js';
import { privilegeConformanceSuite } from './privilege-suite.js';

export interface ConformanceSuiteOptions {
  /** Shown in the test names, e.g. `ssh (bash)`. */
  name: string;
  /**
   * Builds a fresh, unconnected runtime. Called once for each part of the suite (the contract part,
   * the shell part, the bounded-spill part), each time with its own context.
   */
  create: (context: RuntimeContext) => Runtime | Promise<Runtime>;
  /** A reason to skip the whole suite (e.g. sshd is not installed), or false to run it. */
  skip?: string | false;
  /** A folder on the target where the suite may create and remove files. Default `/tmp`. */
  scratchDir?: string;
}

/**
 * Bounds for "it stopped long before the command would have ended". Not performance targets
 * (those are measured by the benchmarks): generous, so a loaded machine passes, yet far below
 * the 30 to 60 s the commands would take if the stop did not work.
 */
const STOP_BOUND_MS = 6_000;
/** How late the side channel answers in the case that checks the limit kept on the target. */
const SLOW_SIDE_CHANNEL_MS = 2_000;
const QUICK_BOUND_MS = 8_000;

/** A unique path in the scratch folder. */
function markerPath(scratch: string, name: string): string {
  return `${scratch}/opsmate-conformance-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}-${name}`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The shell's own job notices must never reach the output. */
function assertNoJobNoise(result: RunResult): void {
  assert.doesNotMatch(result.stderr, /\bKilled\b|\bTerminated\b|\bStopped\b/, 'job noise in stderr');
  assert.doesNotMatch(result.stdout, /\bKilled\b|\bTerminated\b/, 'job noise in stdout');
}

/**
 * The hostile-input suite every shell-based runtime must pass. It covers what a runtime reports
 * (exact exit codes, separate streams, cwd and variables carried over), that a timeout or cancel
 * stops the whole command, on the target itself when the side channel is slow to connect (nothing
 * after it runs, not a list's next statement, not a loop's next
 * iteration, not the command's own trap), that no command can forge or break the framing
 * (fake frames, redefined builtins and helpers, `IFS`, `ulimit`, `exec` redirections, `set -n`,
 * a stopped or killed shell), background output kept apart, bounded spill files, huge and binary
 * output (with the contract suite: result shape, NUL bytes, long commands, big output, concurrency,
 * the facts). Call it at the top level of a `*.test.ts` file run by `node --test`.
 */
export function runtimeConformanceSuite(options: ConformanceSuiteOptions): void {
  const scratch = options.scratchDir ?? '/tmp';
  // What every runtime passes, shell or not; the rest is what a shell adds.
  runtimeContractSuite({
    name: options.name,
    create: options.create,
    commands: SHELL_CONTRACT_COMMANDS,
    ...(options.skip ? { skip: options.skip } : {}),
  });
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

    /** The session still answers exactly: output, exit code, cwd. */
    async function assertHealthy(context: string, cwd?: string): Promise<void> {
      const result = await runtime.run('echo healthy; echo to-stderr >&2; pwd; (exit 4)', {
        timeoutMs: 20_000,
      });
      assert.equal(result.timedOut, false, `${context}: the next command timed out`);
      assert.equal(result.exitCode, 4, `${context}: wrong exit code`);
      assert.equal(result.stderr, 'to-stderr\n', `${context}: wrong stderr`);
      const [first, second] = result.stdout.split('\n');
      assert.equal(first, 'healthy', `${context}: wrong stdout ${JSON.stringify(result.stdout)}`);
      if (cwd !== undefined) assert.equal(second, cwd, `${context}: wrong cwd`);
      assert.ok(result.durationMs < QUICK_BOUND_MS, `${context}: took ${Math.round(result.durationMs)} ms`);
    }

    describe('what a command did', () => {
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
        const child = await runtime.run('sh -c \'echo "${OPSMATE_CONFORMANCE-unset} ${plain-unset}"\'');
        assert.equal(child.stdout, 'exported unset\n', 'exported-ness is kept');
      });

      it('carries values with quotes, newlines and control bytes exactly, and unset', async () => {
        const value = `a'b"c$d\\e\`f\nline2\ttab \x01\x7f end`;
        const literal = `'${value.replaceAll("'", `'\\''`)}'`;
        await runtime.run(`export OPSMATE_TRICKY=${literal}; OPSMATE_PLAIN=${literal}`);
        const result = await runtime.run(`printf '%s|%s' "$OPSMATE_TRICKY" "$OPSMATE_PLAIN"`);
        assert.equal(result.stdout, `${value}|${value}`);
        await runtime.run('unset OPSMATE_TRICKY OPSMATE_PLAIN');
        const unset = await runtime.run('echo "${OPSMATE_TRICKY-gone} ${OPSMATE_PLAIN-gone}"');
        assert.equal(unset.stdout, 'gone gone\n');
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

      it("runs opsmate's HTTP request script intact: here-documents on three descriptors, nothing secret in argv", async () => {
        // The FetchUrl and monitoring tools' request script, with `curl` a shell function that
        // answers with what it was given: argv, the headers (fd 3), the CA (fd 5) and the body.
        const shim =
          'curl() { printf \'HTTP/1.1 201 Created\\r\\nX-Shim: yes\\r\\n\\r\\n\'; echo "args:$*"; ' +
          'echo headers:; cat /dev/fd/3; echo; echo ca:; cat /dev/fd/5; echo; echo body:; cat; }';
        const shimmed = Object.assign(Object.create(runtime) as Runtime, {
          run: (command: string, runOptions?: Parameters<Runtime['run']>[1]) =>
            runtime.run(`( ${shim}\n${command}\n)`, runOptions),
        });
        const body = `{"q": "it's $HOME \`id\` \\n"}\nOPSMATE_0123456789ab\n'EOF'\n`;
        const response = await requestOnTarget({
          runtime: shimmed,
          url: 'http://opsmate.invalid:9090/api/v1/query?query=up&x=$(id)',
          method: 'POST',
          headers: { authorization: 'Bearer s3cr3t-token', 'x-scope-orgid': "tenant 'a' $b" },
          secretHeaders: true,
          body,
          caPem: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n',
          maxRedirects: 0,
          timeoutMs: 20_000,
          maxBytes: 1 << 20,
          signal: new AbortController().signal,
        });
        assert.equal(response.client, 'curl');
        if (response.client !== 'curl') return;
        assert.equal(response.status, 201);
        assert.equal(response.headers['x-shim'], 'yes');
        const text = response.body.toString('utf8');
        const args = /^args:(.*)$/m.exec(text)?.[1] ?? '';
        assert.match(args, /-X POST .*http:\/\/opsmate\.invalid:9090\/api\/v1\/query\?query=up&x=\$\(id\)$/);
        assert.doesNotMatch(args, /s3cr3t|tenant/, 'a header value reached the command line');
        assert.ok(
          text.includes("headers:\nauthorization: Bearer s3cr3t-token\nx-scope-orgid: tenant 'a' $b\n"),
          text,
        );
        assert.ok(text.includes('ca:\n-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n'), text);
        assert.ok(text.endsWith(`body:\n${body}`) || text.endsWith(`body:\n${body}\n`), text);
        await assertHealthy('after the request script');
      });

      it('handles invalid UTF-8 and NUL bytes without losing sync', async () => {
        const result = await runtime.run("printf 'a\\377b\\000c\\n'");
        assert.equal(result.stdoutBytes, 6);
        assert.equal(result.stdout, 'a\uFFFDb\u0000c\n');
        assert.equal((await runtime.run('echo ok')).stdout, 'ok\n');
      });

      it('ends only the command on `exit`, keeping the status and the state', async () => {
        await runtime.run(`cd ${scratch}; export OPSMATE_AFTER_EXIT=still-here`);
        const exited = await runtime.run('cd /; export OPSMATE_AFTER_EXIT=changed; exit 3');
        assert.equal(exited.exitCode, 3);
        assert.equal(exited.shellExited, false);
        const next = await runtime.run('pwd; echo "$OPSMATE_AFTER_EXIT"');
        assert.equal(next.stdout, '/\nchanged\n');
        const plainExit = await runtime.run('false; exit');
        assert.equal(plainExit.exitCode, 1);
        assert.equal((await runtime.run('echo back')).stdout, 'back\n');
      });

      it('does not wait for a background job', async () => {
        const result = await runtime.run('sleep 30 >/dev/null 2>&1 & echo started', { timeoutMs: 20_000 });
        assert.equal(result.timedOut, false);
        assert.equal(result.stdout, 'started\n');
        const next = await runtime.run('echo next');
        assert.equal(next.stdout, 'next\n');
        assert.match(next.notice ?? '', /background processes of earlier commands were still running/);
        // Stopped here, or a later test's command would truthfully report it still running.
        await runtime.run('kill $! 2>/dev/null; wait $! 2>/dev/null; true');
        assert.equal(
          (await runtime.run('echo after')).notice,
          undefined,
          'the stopped job is still reported',
        );
      });

      it('sets a non-interactive environment', async () => {
        const result = await runtime.run('echo "$PAGER $GIT_PAGER $GIT_TERMINAL_PROMPT"');
        assert.equal(result.stdout, 'cat cat 0\n');
      });
    });

    describe('a timeout or a cancel stops the whole command', () => {
      it('runs nothing of a list after the limit, and reports no exit code', async () => {
        const marker = markerPath(scratch, 'list');
        const result = await runtime.run(`echo started; sleep 30; touch ${marker}`, { timeoutMs: 1_000 });
        assert.equal(result.timedOut, true);
        assert.equal(result.timeoutKind, 'total');
        assert.equal(result.exitCode, null);
        assert.match(result.stdout, /started/);
        assert.ok(result.notice, 'a timeout has a notice');
        assert.ok(
          result.durationMs < 1_000 + STOP_BOUND_MS,
          `returned after ${Math.round(result.durationMs)} ms`,
        );
        assertNoJobNoise(result);
        await sleep(1_500);
        const check = await runtime.run(`test -e ${marker} && echo ran || echo stopped`);
        assert.equal(check.stdout, 'stopped\n', 'the statement after the limit ran');
      });

      it('runs no further loop iteration, and no trap of the command', async () => {
        const marker = markerPath(scratch, 'loop');
        const trapMarker = markerPath(scratch, 'trap');
        const result = await runtime.run(
          `trap 'touch ${trapMarker}' EXIT INT TERM HUP; for i in 1 2 3; do sleep 2; echo iter-$i >> ${marker}; done`,
          { timeoutMs: 1_000 },
        );
        assert.equal(result.timedOut, true);
        assert.equal(result.exitCode, null);
        assertNoJobNoise(result);
        await sleep(5_000);
        const check = await runtime.run(
          `test -e ${marker} && echo loop-ran || echo loop-stopped; test -e ${trapMarker} && echo trap-ran || echo trap-stopped`,
        );
        assert.equal(check.stdout, 'loop-stopped\ntrap-stopped\n');
      });

      it('stops a busy loop of the shell itself and nested shells', async () => {
        const marker = markerPath(scratch, 'busy');
        const result = await runtime.run(`while :; do :; done; touch ${marker}`, { timeoutMs: 1_000 });
        assert.equal(result.timedOut, true);
        const nested = await runtime.run(
          `sh -c 'sh -c "sleep 30; touch ${marker}"; touch ${marker}'; touch ${marker}`,
          {
            timeoutMs: 1_000,
          },
        );
        assert.equal(nested.timedOut, true);
        assertNoJobNoise(nested);
        await sleep(1_000);
        assert.equal(
          (await runtime.run(`test -e ${marker} && echo ran || echo stopped`)).stdout,
          'stopped\n',
        );
      });

      it('kills the children of a timed-out command, background ones included', async () => {
        const marker = markerPath(scratch, 'child');
        const result = await runtime.run(`(sleep 3; touch ${marker}) & sleep 60`, { timeoutMs: 1_000 });
        assert.equal(result.timedOut, true);
        await sleep(3_500);
        const check = await runtime.run(`test -e ${marker} && echo survived || echo killed`);
        assert.equal(check.stdout, 'killed\n', 'a child of the timed-out command was left running');
      });

      it('stops a job whose parent already exited (a double fork), and hundreds of processes', async () => {
        const marker = markerPath(scratch, 'double-fork');
        const result = await runtime.run(`( (sleep 2; touch ${marker}) & ); sleep 30`, { timeoutMs: 1_000 });
        assert.equal(result.timedOut, true);
        const many = markerPath(scratch, 'many');
        const crowd = await runtime.run(
          `i=0; while [ $i -lt 300 ]; do i=$((i+1)); sh -c "sleep 3; touch ${many}-$i" & done; sleep 60`,
          { timeoutMs: 1_500 },
        );
        assert.equal(crowd.timedOut, true);
        assert.ok(
          crowd.durationMs < 1_500 + STOP_BOUND_MS,
          `returned after ${Math.round(crowd.durationMs)} ms`,
        );
        assert.match(crowd.notice ?? '', /nothing after that point ran/);
        await sleep(3_500);
        const check = await runtime.run(
          `test -e ${marker} && echo double-ran; ls ${many}-* 2>/dev/null | wc -l`,
        );
        assert.equal(check.stdout.trim(), '0', 'a process of a timed-out command ran on');
      });

      it('keeps the state of the last command that completed, and the session', async () => {
        await runtime.run(`cd ${scratch}; export OPSMATE_KEEP=kept`);
        const result = await runtime.run('cd /; export OPSMATE_KEEP=lost; sleep 30', { timeoutMs: 1_000 });
        assert.equal(result.timedOut, true);
        const next = await runtime.run('pwd; echo "$OPSMATE_KEEP"');
        assert.equal(next.exitCode, 0);
        assert.equal(next.stdout, `${scratch}\nkept\n`);
        await assertHealthy('after a timeout', scratch);
      });

      it('keeps the limit on the target while the side channel is slow to connect', async (t) => {
        // A shell runtime's side channel, reached as the engine reaches it, made 2 s slow: what
        // stops the command near its limit can only be the watcher on the target.
        const slowRuntime = (await options.create({ spillDir, outputLimitBytes: 4096 })) as Runtime & {
          sideChannel?: (script: string, args: string[]) => Promise<unknown>;
          inBandDeadline?: boolean;
        };
        const original = slowRuntime.sideChannel;
        if (typeof original !== 'function' || slowRuntime.inBandDeadline === false) {
          t.skip('the runtime has no side channel of the shell engine, or its side channel is local');
          return;
        }
        slowRuntime.sideChannel = async (script, args) => {
          await sleep(SLOW_SIDE_CHANNEL_MS);
          return original.call(slowRuntime, script, args);
        };
        const ticks = markerPath(scratch, 'ticks');
        try {
          await slowRuntime.connect();
          const result = await slowRuntime.run(`while :; do echo tick >> ${ticks}; sleep 0.1; done`, {
            timeoutMs: 1_000,
          });
          assert.equal(result.timedOut, true);
          assert.equal(result.exitCode, null);
          assert.ok(result.durationMs >= SLOW_SIDE_CHANNEL_MS, 'the side channel was not slow');
          const counted: RunResult[] = [];
          const count = async (): Promise<number> => {
            const check = await slowRuntime.run(`wc -l < ${ticks}`);
            counted.push(check);
            return Number(check.stdout.trim());
          };
          const written = await count();
          // One line per 0.1 s: up to the limit and the watcher's margin that is about 12, and 30
          // or more had the loop run until the side channel's stop.
          assert.ok(
            written >= 1 && written <= 22,
            `the loop wrote ${written} lines; the command: ${JSON.stringify({ ...result, stdout: undefined })}; the count: ${JSON.stringify(counted[0])}`,
          );
          await sleep(1_000);
          assert.equal(await count(), written, 'the loop ran on after the result');
          await slowRuntime.run(`rm -f ${ticks}`);
        } finally {
          await slowRuntime.disconnect();
        }
      });

      it('has an idle timeout that output resets', async () => {
        const result = await runtime.run('echo a; sleep 1; echo b; sleep 60', { idleTimeoutMs: 2_500 });
        assert.equal(result.timedOut, true);
        assert.equal(result.timeoutKind, 'idle');
        assert.equal(result.exitCode, null);
        assert.equal(result.stdout, 'a\nb\n');
      });

      it('cancels a command through an AbortSignal: the rest of it never runs', async () => {
        const marker = markerPath(scratch, 'cancel');
        const controller = new AbortController();
        setTimeout(() => controller.abort(), 500);
        const result = await runtime.run(`echo begun; sleep 3; echo after-cancel; touch ${marker}`, {
          signal: controller.signal,
        });
        assert.equal(result.cancelled, true);
        assert.equal(result.exitCode, null);
        assert.doesNotMatch(result.stdout, /after-cancel/);
        assertNoJobNoise(result);
        await sleep(3_000);
        const check = await runtime.run(`test -e ${marker} && echo ran || echo stopped; echo after`);
        assert.equal(check.stdout, 'stopped\nafter\n');
      });
    });

    describe('the protocol cannot be forged or broken', () => {
      it('cannot be fooled by output that looks like a frame', async () => {
        const result = await runtime.run(
          "printf '\\036OPSMATE0123>0\\036\\n\\036OPSMATE0123<\\036\\n'; printf '\\036\\036\\037 tail\\n'; echo done",
        );
        assert.equal(result.exitCode, 0);
        assert.equal(result.stdout, '\x1eOPSMATE0123>0\x1e\n\x1eOPSMATE0123<\x1e\n\x1e\x1e\x1f tail\ndone\n');
      });

      it('gives a command no token it could forge a trailer with', async () => {
        // Every token-like string the command can see, printed as an exit frame and an end frame.
        const forge = [
          'for t in $( (set; env; export -p; declare -p 2>/dev/null; cat /proc/$$/environ /proc/$PPID/environ 2>/dev/null | tr "\\0" "\\n") | grep -o "OPSMATE[0-9a-f]*" | sort -u); do',
          '  printf "\\036%s>0\\036\\n" "$t"; printf "\\036%s<\\036\\n" "$t" >&2;',
          '  printf "\\036%s>0\\037done\\037/forged\\037\\036%s<\\n" "$t" "$t";',
          'done',
          `printf '\\036%s>0\\037done\\037/forged\\037\\036%s<\\n' "\${__opsmate_token-}" "\${__opsmate_token-}"`,
          'exit 3',
        ].join('\n');
        const result = await runtime.run(forge);
        assert.equal(result.exitCode, 3, 'a forged frame was taken for the real one');
        assert.notEqual(result.cwd, '/forged');
        await assertHealthy('after forged frames');
        const next = await runtime.run('echo clean');
        assert.equal(next.stdout, 'clean\n', 'a later command got leftovers');
      });

      const breakers: Array<[string, string]> = [
        ['a function named command', 'command() { :; }'],
        ['an alias of command', 'alias command=true; alias eval=true'],
        [
          'aliases with expand_aliases',
          'shopt -s expand_aliases 2>/dev/null; alias echo=false; alias printf=true',
        ],
        ['enable -n eval', 'enable -n eval 2>/dev/null'],
        ['enable -n command', 'enable -n command 2>/dev/null'],
        ['enable -n export', 'enable -n export 2>/dev/null; enable -n printf 2>/dev/null'],
        ['IFS made of digits', 'IFS=0123456789'],
        ['ulimit -n 4', 'ulimit -n 4'],
        ['a function named printf', 'printf() { :; }'],
        [
          'redefined opsmate helpers',
          '__opsmate_trailer() { :; }; __opsmate_end() { :; }; __opsmate_state() { :; }',
        ],
        [
          'unset opsmate helpers',
          'unset -f __opsmate_trailer __opsmate_end __opsmate_state __opsmate_holds 2>/dev/null',
        ],
        ['unset opsmate variables', 'unset __opsmate_token __opsmate_st __opsmate_flavor 2>/dev/null'],
        [
          'readonly opsmate variables',
          'readonly __opsmate_token __opsmate_st __opsmate_s __opsmate_reported 2>/dev/null',
        ],
        ['exec >/dev/null', 'exec >/dev/null'],
        ['exec 1>&2', 'exec 1>&2'],
        ['exec >&-', 'exec >&-'],
        ['exec 2>/dev/null', 'exec 2>/dev/null'],
        ['exec 2>&1', 'exec 2>&1'],
        [
          'closing every descriptor',
          'for fd in 3 4 5 6 7 8 9; do eval "exec $fd>&-"; done; exec 0<&- 1>&- 2>&-',
        ],
        ['set -e and a failure', 'set -e; false; echo not-reached'],
        ['set -u', 'set -u'],
        ['set -n', 'set -n; echo not-run'],
        ['set -x', 'set -x'],
        [
          'a DEBUG and an ERR trap',
          "trap 'echo DEBUG-TRAP' DEBUG 2>/dev/null; trap 'echo ERR-TRAP' ERR 2>/dev/null; true",
        ],
        ['an EXIT trap', "trap 'echo exit-trap-ran' EXIT"],
        ['PATH emptied', 'PATH=/nonexistent; export PATH'],
      ];
      for (const [label, breaker] of breakers) {
        it(`stays exact after ${label}`, async () => {
          const result = await runtime.run(breaker, { timeoutMs: 20_000 });
          assert.equal(result.timedOut, false, `${label}: a command that finished at once hung`);
          assert.ok(result.durationMs < QUICK_BOUND_MS, `${label}: took ${Math.round(result.durationMs)} ms`);
          assert.equal(result.shellExited, false, `${label}: the shell was lost`);
          // A later command sees none of it, and state that only shells keep does not carry over.
          await runtime.run('PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin; export PATH');
          await assertHealthy(label);
          await assertHealthy(`${label} (twice)`);
        });
      }

      it('does not carry a value too big to carry, and says so', async () => {
        const set = await runtime.run(
          'big=$(head -c 1200000 /dev/zero | tr "\\0" a); small=kept; echo "${#big}"',
          { timeoutMs: 60_000 },
        );
        assert.equal(set.exitCode, 0);
        assert.equal(set.stdout, '1200000\n');
        assert.match(set.notice ?? '', /not carried to later commands.*\bbig\b/);
        assert.doesNotMatch(set.notice ?? '', /\bsmall\b/);
        const next = await runtime.run('echo "${big:-gone} $small"');
        assert.equal(next.stdout, 'gone kept\n');
        assert.equal(next.notice, undefined);
        await runtime.run('unset small');
      });

      it('stays exact whatever variables a command leaves behind', async () => {
        // Variables that change how a shell behaves must not reach opsmate's own shell.
        for (const setter of [
          'BASH_XTRACEFD=1',
          'unset BASH_XTRACEFD',
          'FUNCNEST=1',
          'export FUNCNEST=1',
          'POSIXLY_CORRECT=1; export POSIXLY_CORRECT',
          'CDPATH=/nonexistent; export CDPATH',
          'export BASH_ENV=/nonexistent ENV=/nonexistent',
          "PS4='$(echo PS4-RAN)'; export SHELLOPTS 2>/dev/null",
        ]) {
          const set = await runtime.run(setter, { timeoutMs: 20_000 });
          assert.equal(set.timedOut, false, setter);
          const job = await runtime.run('sleep 5 >/dev/null 2>&1 & echo started', { timeoutMs: 20_000 });
          assert.equal(job.timedOut, false, `${setter}, then a background job`);
          await assertHealthy(`after ${setter}`);
          await runtime.run('kill $! 2>/dev/null; wait $! 2>/dev/null; true');
        }
        await runtime.run('unset FUNCNEST POSIXLY_CORRECT CDPATH BASH_ENV ENV PS4');
      });

      it('runs the next command where the kernel says the last one ended, and says when that is gone', async () => {
        const dir = markerPath(scratch, 'gone');
        await runtime.run(`cd ${scratch}`);
        const deleted = await runtime.run(`mkdir -p ${dir} && cd ${dir} && rmdir ${dir}`);
        assert.equal(deleted.exitCode, 0);
        assert.match(deleted.notice ?? '', /working directory no longer exists; the next command runs in/);
        const next = await runtime.run('pwd');
        assert.equal(next.stdout, `${scratch}\n`);
        // PWD is only a variable: assigning it moves nothing.
        await runtime.run('PWD=/etc');
        assert.equal((await runtime.run('pwd -P')).stdout, `${scratch}\n`);
        // A directory deleted between two commands: the command is not run, and the model is told.
        const other = markerPath(scratch, 'later-gone');
        await runtime.run(
          `mkdir -p ${other} && cd ${other} && { (sleep 1; rmdir ${other}) >/dev/null 2>&1 & }`,
        );
        await sleep(2_000);
        const lostFile = markerPath(scratch, 'lost-file');
        const lost = await runtime.run(`touch ${lostFile}; pwd`);
        assert.equal(lost.exitCode, null);
        assert.match(
          lost.notice ?? '',
          new RegExp(
            `not run: its working directory ${other} no longer exists; the shell is now in ${scratch}`,
          ),
        );
        assert.equal((await runtime.run('pwd')).stdout, `${scratch}\n`);
        assert.equal(
          (await runtime.run(`test -e ${lostFile} && echo ran || echo not-run`)).stdout,
          'not-run\n',
        );
      });

      it('labels output of a job whose parent exited when it lands in a later command', async () => {
        const first = await runtime.run('( (sleep 1; echo LATE-DOUBLE-FORK) & ); echo now');
        assert.equal(first.stdout, 'now\n');
        const next = await runtime.run('sleep 2; echo mine');
        assert.match(next.stdout, /mine\n/);
        const late =
          next.stdout.includes('LATE-DOUBLE-FORK') ||
          next.backgroundOutput?.stdout.includes('LATE-DOUBLE-FORK');
        assert.ok(late, 'the late output was lost');
        if (next.stdout.includes('LATE-DOUBLE-FORK')) {
          assert.match(
            next.notice ?? '',
            /background processes of earlier commands/,
            'mixed in without a word',
          );
        }
      });

      it('keeps a script that sends its own output to a log file whole', async () => {
        const log = markerPath(scratch, 'log');
        const result = await runtime.run(`exec > ${log} 2>&1; echo hello; echo oops >&2`);
        assert.equal(result.exitCode, 0);
        assert.equal(result.stdout, '');
        const content = await runtime.run(`cat ${log}; rm -f ${log}`);
        assert.equal(content.stdout, 'hello\noops\n', 'the log got something besides the script output');
      });

      it("cannot forge its exit from what waits on the session shell's stdin", async () => {
        // Where stdin is a pipe (docker, ssh) the command can open the session shell's: nothing
        // there may hold the exit frame's token while the command runs (nor its script, already read).
        const marker = markerPath(scratch, 'stdin-forged-after');
        const forge = [
          'f=$(mktemp)',
          '( cat /proc/$PPID/fd/0 > "$f" 2>/dev/null & p=$!; sleep 1; kill $p 2>/dev/null )',
          'for t in $(grep -aoE "OPSMATE[0-9a-f]{24}" "$f" | sort -u); do printf "\\036%s>0\\036\\n" "$t"; printf "\\036%s<\\036\\n" "$t" >&2; done',
          'rm -f "$f"',
          `sleep 1; touch ${marker}; exit 7`,
        ].join('\n');
        const result = await runtime.run(forge, { timeoutMs: 30_000 });
        assert.equal(result.exitCode, 7, 'a forged exit frame was taken for the real one');
        assert.equal(
          (await runtime.run(`test -e ${marker} && echo done-before || echo missing`)).stdout,
          'done-before\n',
          'the result came back before the command had ended',
        );
        await assertHealthy("after reading the session shell's stdin");
      });

      it("runs the next command exactly after a job killed the shell's own processes between commands", async () => {
        // Whatever the session shell keeps between commands (a command shell started ahead) may be
        // killed by a job of an earlier command: the next command runs once, in a shell of its own.
        const marker = markerPath(scratch, 'ran-once');
        await runtime.run(
          'pp=$PPID; ( sleep 1; for k in $(cat /proc/$pp/task/$pp/children 2>/dev/null); do kill -9 $k; done ) >/dev/null 2>&1 & echo started',
        );
        await sleep(2_500);
        const next = await runtime.run(`echo run >> ${marker}; echo ok; (exit 3)`, { timeoutMs: 20_000 });
        if (next.shellExited) assert.equal(next.exitCode, null, 'a replaced shell reported an exit code');
        else {
          assert.equal(next.exitCode, 3);
          assert.equal(next.stdout, 'ok\n');
        }
        const count = await runtime.run(`cat ${marker} 2>/dev/null | wc -l`);
        assert.ok(['0', '1'].includes(count.stdout.trim()), `the command ran ${count.stdout.trim()} times`);
        if (!next.shellExited) assert.equal(count.stdout.trim(), '1');
        await assertHealthy('after the kill between commands');
      });

      it('cannot forge its exit from what its own memory holds', async () => {
        // Reads every token-like string out of its own shell's memory (no ptrace: /proc/self/mem of
        // its own process) and prints them as exit and end frames, then goes on running.
        const marker = markerPath(scratch, 'forged-after');
        const forge = [
          'toks=$(while read -r range perms _ _ _ path; do',
          '  case "$perms" in rw*) ;; *) continue;; esac',
          '  s=$((0x${range%-*})); e=$((0x${range#*-})); [ $((e - s)) -le 67108864 ] || continue',
          '  exec 3< /proc/self/mem',
          '  dd bs=4096 skip=$((s/4096)) count=$(((e-s)/4096)) <&3 2>/dev/null | grep -aoE "OPSMATE[0-9a-f]{24}"',
          'done < /proc/self/maps 2>/dev/null | sort -u)',
          'for t in $toks; do printf "\\036%s>0\\036\\n" "$t"; printf "\\036%s<\\036\\n" "$t" >&2; done',
          `sleep 2; touch ${marker}; exit 7`,
        ].join('\n');
        const result = await runtime.run(forge, { timeoutMs: 60_000 });
        assert.equal(result.exitCode, 7, 'a forged exit frame was taken for the real one');
        assert.equal(
          (await runtime.run(`test -e ${marker} && echo done-before || echo missing`)).stdout,
          'done-before\n',
          'the result came back before the command had ended',
        );
        await assertHealthy('after the memory forgery');
      });

      it('cannot hide its end behind a state frame it opened and never closed', async () => {
        const result = await runtime.run(
          `printf '\\036%sS' "$__opsmate_st"; echo shown; echo shown-err >&2; exit 3`,
          { timeoutMs: 30_000 },
        );
        assert.equal(result.timedOut, false, 'the command that ended at once ran into its timeout');
        assert.equal(result.exitCode, 3);
        assert.match(result.stdout, /shown\n/);
        assert.equal(result.stderr, 'shown-err\n');
        assert.equal(result.shellExited, false);
      });

      it('stops processes whose names hold a newline, and all they started', async () => {
        const log = markerPath(scratch, 'newline-log');
        const link = markerPath(scratch, 'name');
        const result = await runtime.run(
          [
            `p=$(printf '%s\\nb' ${link}); ln -sf /bin/sh "$p"`,
            `"$p" -c 'while :; do echo x >> ${log}; sleep 0.2; done' &`,
            `sh -c 'printf "a\\nb" > /proc/self/comm 2>/dev/null; while :; do echo y >> ${log}; sleep 0.2; done' &`,
            'wait',
          ].join('\n'),
          { timeoutMs: 1_500 },
        );
        assert.equal(result.timedOut, true);
        const count = async (): Promise<string> =>
          (await runtime.run(`wc -l < ${log} 2>/dev/null || echo 0`)).stdout.trim();
        const first = await count();
        await sleep(1_500);
        assert.equal(await count(), first, 'a process of the timed-out command is still writing');
        await runtime.run(`rm -f ${log} "$(printf '%s\\nb' ${link})"`);
      });

      it('notices a shell stopped by the command, and replaces it', async () => {
        await runtime.run(`cd ${scratch}; export OPSMATE_STOPPED=kept`);
        const result = await runtime.run('kill -STOP $PPID; echo sent', { timeoutMs: 30_000 });
        assert.equal(result.timedOut, false, 'the stopped shell went unnoticed until the timeout');
        assert.equal(result.exitCode, null);
        assert.equal(result.shellExited, true);
        assert.ok(result.notice);
        const next = await runtime.run('pwd; echo "$OPSMATE_STOPPED"');
        assert.equal(next.stdout, `${scratch}\nkept\n`);
      });

      it('notices at once a shell killed while an orphan holds its output open', async () => {
        await runtime.run(`cd ${scratch}; export OPSMATE_KILLED=kept`);
        const result = await runtime.run('(sleep 20 &) ; kill -9 $PPID', { timeoutMs: 60_000 });
        assert.equal(result.shellExited, true);
        assert.equal(result.exitCode, null);
        assert.ok(result.durationMs < QUICK_BOUND_MS, `noticed after ${Math.round(result.durationMs)} ms`);
        assertNoJobNoise(result);
        const next = await runtime.run('pwd; echo "$OPSMATE_KILLED"');
        assert.equal(next.stdout, `${scratch}\nkept\n`);
      });

      it('keeps output that a background job prints after its command apart', async () => {
        const first = await runtime.run('(sleep 1; echo late-output; echo late-error >&2) & echo now');
        assert.equal(first.stdout, 'now\n');
        await sleep(2_000);
        const next = await runtime.run('echo next');
        assert.equal(next.stdout, 'next\n');
        assert.equal(next.stderr, '');
        assert.ok(next.backgroundOutput, 'the late output was lost');
        assert.match(next.backgroundOutput.stdout, /late-output/);
        assert.match(next.backgroundOutput.stderr, /late-error/);
        assert.ok(next.notice?.includes('background'), 'the notice does not say so');
        const after = await runtime.run('echo after');
        assert.equal(after.backgroundOutput, undefined);
      });
    });
  });

  // Where the target's user is not root and may use sudo, what it runs as root must stop too.
  privilegeConformanceSuite({
    name: options.name,
    create: options.create,
    ...(options.skip ? { skip: options.skip } : {}),
    ...(options.scratchDir ? { scratchDir: options.scratchDir } : {}),
  });

  describe(`runtime conformance: ${options.name}, bounded spill`, { skip: options.skip || false }, () => {
    let runtime: Runtime;
    let spillDir: string;
    before(async () => {
      spillDir = mkdtempSync(join(tmpdir(), 'opsmate-conformance-spill-'));
      runtime = await options.create({ spillDir, outputLimitBytes: 4096, spillLimitBytes: 100_000 });
      await runtime.connect();
    });
    after(async () => {
      await runtime?.disconnect();
      rmSync(spillDir, { recursive: true, force: true });
    });

    it('stops writing a spill file at its cap, keeps what fits and says so', async () => {
      const result = await runtime.run('head -c 1000000 /dev/zero | tr "\\0" b; echo; echo end', {
        timeoutMs: 60_000,
      });
      assert.equal(result.exitCode, 0);
      assert.equal(result.stdoutBytes, 1_000_005);
      assert.match(result.stdout, /end\n$/);
      const spill = result.spillFiles.stdout;
      assert.ok(spill, 'no spill file');
      assert.equal(statSync(spill).size, 100_000);
      assert.match(result.stdout, /first 100000 bytes/);
      assert.match(result.notice ?? '', /spill/);
    });
  });
}
