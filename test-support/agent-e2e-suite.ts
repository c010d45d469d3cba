import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FakeLlmServer, systemPromptOf, toolResultsOf } from './fake-llm/index.js';
import { runCliIsolated, type CliResult } from './run-cli.js';

export interface AgentE2eSuiteOptions {
  /** Shown in test names, e.g. `local` or `ssh`. */
  name: string;
  /** Flags choosing and configuring the runtime, e.g. `['--shell-command-runtime', 'ssh', '--runtime-ssh-host', ...]`. */
  runtimeArgs: string[];
  /** Extra env for the CLI, e.g. `RUNTIME_SSH_*` variables. */
  env?: Record<string, string>;
  /** A reason to skip (service missing), or false. */
  skip?: string | false;
  /** A folder that exists on the target. Default `/tmp`. */
  scratchDir?: string;
}

/**
 * What the agent must do whatever the runtime: keep shell state between tool calls, honour the
 * model's timeout, cut big output before the model sees it and let it read the rest, report exit
 * codes, and describe the target in the system prompt. Runs the built CLI against a fake model.
 * Call at the top level of a `*.test.ts` file; the ssh and docker branches add their own calls.
 */
export function agentE2eSuite(options: AgentE2eSuiteOptions): void {
  const scratch = options.scratchDir ?? '/tmp';
  describe(`agent end to end: ${options.name} runtime`, { skip: options.skip || false }, () => {
    let fake: FakeLlmServer;
    before(async () => {
      fake = await FakeLlmServer.start();
    });
    after(async () => {
      await fake?.close();
    });

    const cli = (args: string[]): Promise<CliResult> =>
      runCliIsolated({
        args: [...args, ...options.runtimeArgs],
        env: { OPENAI_BASE_URL: fake.openAiBaseUrl, ...options.env },
      });
    /** `opsmate exec` on the same target (its options before the `--`). */
    const exec = (command: string, flags: string[] = []): Promise<CliResult> =>
      runCliIsolated({
        args: ['exec', ...flags, ...options.runtimeArgs, '--', command],
        env: { ...options.env },
      });
    const fresh = (): number => {
      fake.requests.length = 0;
      return 0;
    };

    it('keeps the working directory between tool calls, and tells the model about the target', async () => {
      fresh();
      fake.enqueue(
        {
          text: 'Going there.',
          toolCalls: [{ name: 'ShellCommand', args: { description: 'move', command: `cd ${scratch}` } }],
        },
        { toolCalls: [{ name: 'ShellCommand', args: { description: 'where', command: 'pwd' } }] },
        { text: `You are in ${scratch}.` },
      );
      const run = await cli(['solve', 'where am I?']);
      assert.equal(run.exitCode, 0, run.stderr);
      assert.match(run.stdout, new RegExp(`Answer: You are in ${scratch}\\.`));
      assert.equal(fake.requests.length, 3);
      const results = toolResultsOf(fake.requests[2]!);
      assert.match(results[1]!, /Command: pwd\nExit code: 0/);
      assert.match(results[1]!, new RegExp(`\\n${scratch}\\n`));
      assert.match(
        results[1]!,
        new RegExp(`Working directory afterwards:\\n<untrusted-data id="\\w+" source="cwd">\\n${scratch}\\n`),
      );
      const system = systemPromptOf(fake.requests[0]!);
      assert.match(system, /OS info:/);
      assert.match(system, /User:\n<untrusted-data id="\w+" source="user">\n\S+\n/);
      assert.match(system, /Systemd: (yes|no)/);
      assert.match(system, new RegExp(`Runtime: ${options.name}`));
    });

    it('reports exit codes and stderr to the model', async () => {
      fresh();
      fake.enqueue(
        { toolCalls: [{ name: 'ShellCommand', args: { command: 'echo oops >&2; (exit 3)' } }] },
        { text: 'It failed with 3.' },
      );
      const run = await cli(['run', 'try it']);
      assert.equal(run.exitCode, 0, run.stderr);
      const [result] = toolResultsOf(fake.requests[1]!);
      assert.match(result!, /Exit code: 3/);
      assert.match(
        result!,
        /Stderr \(5 bytes\):\n<untrusted-data id="[0-9a-f]+" source="stderr">\noops\n<\/untrusted-data/,
      );
      assert.match(run.stdout, /\[exit 3 · \d+\.\ds\]/);
    });

    it("stops a command at the model's timeout, runs nothing after it, and gives no exit code", async () => {
      fresh();
      const marker = `${scratch}/opsmate-agent-late-${process.pid}-${Date.now()}`;
      fake.enqueue(
        {
          toolCalls: [
            { name: 'ShellCommand', args: { command: `sleep 60; echo late; touch ${marker}`, timeout: 1 } },
          ],
        },
        {
          toolCalls: [
            {
              name: 'ShellCommand',
              args: { command: `sleep 1; test -e ${marker} && echo ran || echo stopped` },
            },
          ],
        },
        { text: 'The command hung.' },
      );
      const run = await cli(['solve', 'wait a minute', '--policy-profile', 'allow-all']);
      assert.equal(run.exitCode, 0, run.stderr);
      const [result] = toolResultsOf(fake.requests[1]!);
      assert.match(result!, /Exit code: none/);
      assert.doesNotMatch(result!, /Exit code: 0/);
      assert.match(result!, /Timed out: yes/);
      assert.match(result!, /timed out after 1 ?s/);
      assert.doesNotMatch(result!, /\nlate\n|\bKilled\b|\bTerminated\b/);
      const [check] = toolResultsOf(fake.requests[2]!).slice(-1);
      assert.match(check!, /\nstopped\n/, 'the statement after the timeout ran');
      assert.match(run.stdout, /The command hung\./);
    });

    it('cuts big output before the model sees it, then lets the model read the spilled rest', async () => {
      fresh();
      fake.enqueue(
        { toolCalls: [{ name: 'ShellCommand', args: { command: 'seq 1 50000' } }] },
        (request) => {
          const [result] = toolResultsOf(request);
          const file = /stdout: (\S+?\.stdout)/.exec(result ?? '')?.[1] ?? 'missing';
          return { toolCalls: [{ name: 'ReadSpilledOutput', args: { file, pattern: '^2500[0-2]$' } }] };
        },
        { text: 'Found them.' },
      );
      const run = await cli(['solve', '-l', '2000', 'count to 50000']);
      assert.equal(run.exitCode, 0, run.stderr);
      const [shell, read] = toolResultsOf(fake.requests[2]!);
      assert.ok(shell!.length < 4000, `the model got ${shell!.length} characters`);
      assert.match(shell!, /Stdout \(288894 bytes\)/);
      assert.match(shell!, /bytes omitted/);
      assert.match(shell!, /Output truncated/);
      assert.match(shell!, /\n1\n2\n3\n/);
      assert.match(shell!, /\n50000\n?<\/untrusted-data/);
      assert.match(read!, /3 line\(s\) matching/);
      assert.match(read!, /25000: 25000\n25001: 25001\n25002: 25002/);
    });

    it('refuses the bypass forms of issue 10 without a terminal, and the scratch folder on the target survives', async () => {
      const target = `${scratch}/opsmate-bypass-${process.pid}-${Date.now()}`;
      const setUp = await exec(`mkdir -p ${target} && echo precious > ${target}/keep`);
      assert.equal(setUp.exitCode, 0, setUp.stderr);
      const bypasses = bypassForms(target);
      fresh();
      fake.enqueue(
        {
          toolCalls: bypasses.map((command) => ({
            name: 'ShellCommand',
            args: { command, description: 'bypass' },
          })),
        },
        { text: 'Done.' },
      );
      // No terminal (stdin is not one): "ask" must mean "not run".
      const run = await cli(['run', 'clean up']);
      assert.equal(run.exitCode, 0, run.stderr);
      const results = toolResultsOf(fake.requests.at(-1)!);
      assert.equal(results.length, bypasses.length);
      results.forEach((text, index) =>
        assert.match(text, /The command was NOT run: needs approval/, bypasses[index]),
      );
      const check = await exec(`cat ${target}/keep`);
      assert.equal(check.exitCode, 0, `a bypass deleted ${target} on the target: ${check.stderr}`);
      assert.equal(check.stdout, 'precious\n');
      await exec(`rm -rf ${target}`, ['-y']);
    });

    it('a user allow rule does not match a command whose option takes the allowed word (finding 36)', async () => {
      const target = `${scratch}/opsmate-rule-${process.pid}-${Date.now()}`;
      const setUp = await exec(`mkdir -p ${target} && echo precious > ${target}/keep`);
      assert.equal(setUp.exitCode, 0, setUp.stderr);
      const dir = mkdtempSync(join(tmpdir(), 'opsmate-e2e-rules-'));
      const policyFile = join(dir, 'policy.yaml');
      // A user who lets the model print files with sed: `sed -n p FILE`.
      writeFileSync(policyFile, 'rules:\n  - action: allow\n    commands: ["sed -n p"]\n');
      // `-e` takes `p`: the old matcher saw `p` as the script and allowed an in-place edit.
      const edit = `sed -n -e p -e 's/precious/gone/p' -i ${target}/keep`;
      const print = `sed -n p ${target}/keep`;
      fresh();
      fake.enqueue(
        {
          toolCalls: [edit, print].map((command) => ({
            name: 'ShellCommand',
            args: { command, description: 'sed' },
          })),
        },
        { text: 'Done.' },
      );
      try {
        const run = await cli(['run', '--policy-file', policyFile, 'fix the file']);
        assert.equal(run.exitCode, 0, run.stderr);
        const [edited, printed] = toolResultsOf(fake.requests.at(-1)!);
        assert.match(edited!, /The command was NOT run: needs approval/);
        assert.match(printed!, /Exit code: 0/);
        assert.match(printed!, /precious/);
        const check = await exec(`cat ${target}/keep`);
        assert.equal(check.stdout, 'precious\n', 'the allow rule let sed -i edit the file');
      } finally {
        rmSync(dir, { recursive: true, force: true });
        await exec(`rm -rf ${target}`, ['-y']);
      }
    });
  });
}

/**
 * The bypasses issue 10 reported (each ran on the target before), and the second list of forms
 * an attacker would try; each would delete `target`.
 */
export function bypassForms(target: string): string[] {
  return [
    `su root -c 'rm -rf ${target}'`,
    `runuser -l root -c 'rm -rf ${target}'`,
    `flock /tmp/opsmate-bypass.lock -c 'rm -rf ${target}'`,
    `echo ${target} | xargs --max-args 1 rm -rf`,
    `sudo --chdir / rm -rf ${target}`,
    `echo $(( $(rm -rf ${target}) ))`,
    `echo \${X:-$(rm -rf ${target})}`,
    `[[ x -eq 'a[$(rm -rf ${target})]' ]]`,
    `coproc rm -rf ${target}`,
    `. /dev/stdin <<< 'rm -rf ${target}'`,
    `bash /dev/stdin <<< 'rm -rf ${target}'`,
    `hash -p /bin/rm ls; ls -rf ${target}`,
    `alias ls='rm -rf'; ls ${target}`,
    `f() { rm -rf ${target}; }; f`,
    `trap 'rm -rf ${target}' DEBUG; true`,
    `python3 -c 'import shutil; shutil.rmtree("${target}")'`,
    `awk 'BEGIN{system("rm -rf ${target}")}'`,
    `ln -sf /bin/rm /tmp/opsmate-bypass-rm; /tmp/opsmate-bypass-rm -rf ${target}`,
    `printf 'rm -rf ${target}' > /tmp/opsmate-bypass.sh; sh /tmp/opsmate-bypass.sh`,
    `find ${target} -delete`,
    `find ${target} 2>/dev/null -delete`,
    `env -S 'rm -rf ${target}'`,
    `nice -n 5 -- rm -rf ${target}`,
    `timeout -s KILL 5 rm -rf ${target}`,
    `find ${target}/.. -maxdepth 1 -name ${target.split('/').pop()} -execdir rm -rf {} +`,
    `echo ${target} | xargs -I{} sh -c 'rm -rf {}'`,
    `git -c core.pager='rm -rf ${target}' log`,
    `tar -cf /dev/null /etc --checkpoint=1 --checkpoint-action=exec='rm -rf ${target}'`,
    `cat <<EOF\n\`rm -rf ${target}\`\nEOF`,
    `test -v 'a[$(rm -rf ${target})]'`,
    `env GIT_EXTERNAL_DIFF='rm -rf ${target}' git diff`,
    `rm --rec --for ${target}`,
    // Read-only programs with options that write or load the network (finding 39).
    `ping -f -c 3 127.0.0.1`,
    `blkid -g`,
    `ping -c 2000000 -i 0 127.0.0.1`,
  ];
}
