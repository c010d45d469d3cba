// End-to-end: `opsmate run` through the built CLI against a fake model server, with no terminal.
// The guard must cover the agent's ShellCommand: policy, masking, audit with the instruction.
// Build first: `npm run build` (npm test does).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { FakeLlmServer, toolResultsOf } from '../../test-support/fake-llm/index.js';
import { readAuditCommands } from './verify-audit-log.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const bin = join(root, 'bin', 'opsmate.js');

function opsmate(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stdout.resume();
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stderr }));
  });
}

describe('safety around the agent (opsmate run)', () => {
  let fake: FakeLlmServer;
  let home: string;
  let scratch: string;

  before(async () => {
    assert.ok(existsSync(join(root, 'dist', 'safety', 'guarded-runtime.js')), 'run `npm run build` first');
    fake = await FakeLlmServer.start();
    home = mkdtempSync(join(tmpdir(), 'opsmate-agent-home-'));
    scratch = mkdtempSync(join(tmpdir(), 'opsmate-agent-scratch-'));
  });
  after(async () => {
    await fake.close();
    rmSync(home, { recursive: true, force: true });
    rmSync(scratch, { recursive: true, force: true });
  });

  it('refuses risky commands, masks secrets, denies by policy and audits each call with the instruction', async () => {
    const marker = join(scratch, 'marker');
    const denied = join(scratch, 'denied');
    const policy = join(scratch, 'policy.yaml');
    writeFileSync(policy, 'rules:\n  - action: deny\n    commands: [mkdir]\n    reason: no new folders\n');
    const envFile = join(scratch, 'app.env');
    writeFileSync(envFile, 'APP_PORT=8080\nDB_PASSWORD=topsecret123\n');
    fake.enqueue(
      {
        toolCalls: [
          { name: 'ShellCommand', args: { command: `cat ${envFile}`, description: 'env' } },
          {
            name: 'ShellCommand',
            args: { command: `touch ${marker}; rm -rf ${scratch}/none`, description: 'x' },
          },
          { name: 'ShellCommand', args: { command: `mkdir ${denied}`, description: 'y' } },
        ],
      },
      { text: 'Done.' },
    );
    const result = await opsmate(['run', 'why is the disk full?', '-m', 'gpt-4o', '--policy-file', policy], {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: home,
      OPSMATE_HOME: home,
      OPENAI_API_KEY: 'sk-fake-test-key-000000000000',
      OPENAI_BASE_URL: fake.openAiBaseUrl,
      NO_COLOR: '1',
    });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(existsSync(marker), false, 'a command that needed approval ran');
    assert.equal(existsSync(denied), false, 'a denied command ran');

    const results = toolResultsOf(fake.requests.at(-1)!).join('\n');
    assert.equal(results.includes('topsecret123'), false, 'a secret reached the model');
    assert.match(results, /APP_PORT=8080\nDB_PASSWORD=\[REDACTED:secret-env\]/);
    // The agent's default profile is read-only: `touch` is not on its list, so the line asks.
    assert.match(
      results,
      /NOT run: needs approval \(touch is not on the read-only list \[read-only:not-listed\]\).*no terminal/,
    );
    assert.match(results, /NOT run: denied by policy rule .*no new folders/);

    const entries = readAuditCommands(join(home, 'audit.jsonl'));
    assert.equal(entries.length, 3);
    assert.deepEqual(
      entries.map((entry) => entry.outcome),
      ['approved', 'cancelled', 'denied'],
    );
    for (const entry of entries) {
      assert.equal(entry.instruction, 'why is the disk full?');
      assert.equal(entry.sessionId, entries[0]!.sessionId);
    }
    assert.equal(readFileSync(join(home, 'audit.jsonl'), 'utf8').includes('topsecret123'), false);
  });

  it('refuses the bypass forms of issue 10 without a terminal, and nothing is deleted', async () => {
    const target = mkdtempSync(join(tmpdir(), 'opsmate-bypass-scratch-'));
    writeFileSync(join(target, 'keep'), 'x');
    const bypasses = [
      `su root -c 'rm -rf ${target}'`,
      `su - root -c 'rm -rf ${target}'`,
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
      `perl -e 'use File::Path; rmtree("${target}")'`,
      `awk 'BEGIN{system("rm -rf ${target}")}'`,
      `ln -sf /bin/rm /tmp/opsmate-bypass-rm; /tmp/opsmate-bypass-rm -rf ${target}`,
      `printf 'rm -rf ${target}' > /tmp/opsmate-bypass.sh; sh /tmp/opsmate-bypass.sh`,
      `find ${target} -delete`,
    ];
    fake.requests.length = 0;
    fake.enqueue(
      {
        toolCalls: bypasses.map((command) => ({
          name: 'ShellCommand',
          args: { command, description: 'bypass' },
        })),
      },
      { text: 'Done.' },
    );
    const result = await opsmate(['run', 'clean up', '-m', 'gpt-4o'], {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: home,
      OPSMATE_HOME: join(home, 'bypass'),
      OPENAI_API_KEY: 'sk-fake-test-key-000000000000',
      OPENAI_BASE_URL: fake.openAiBaseUrl,
      NO_COLOR: '1',
    });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(existsSync(join(target, 'keep')), true, 'a bypass deleted the scratch directory');
    const results = toolResultsOf(fake.requests.at(-1)!);
    assert.equal(results.length, bypasses.length);
    results.forEach((text, index) =>
      assert.match(text, /The command was NOT run: needs approval/, bypasses[index]),
    );
    rmSync(target, { recursive: true, force: true });
  });
});
