// End-to-end: SIGTERM, SIGHUP and SIGKILL sent to the built CLI while a command runs. The first two
// must stop the command as Ctrl-C does and be recorded; SIGKILL cannot be caught, so the audit log
// keeps the started record without a finished one, and `audit verify` says so.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { FakeLlmServer } from '../../test-support/fake-llm/index.js';
import { runCliIsolated, startCliIsolated } from '../../test-support/run-cli.js';
import { processAlive } from '../../src/process/file-lock.js';
import { readAuditCommands, verifyAuditLog } from '../../src/safety/verify-audit-log.js';

const scratch = mkdtempSync(join(tmpdir(), 'opsmate-wt-audit-signals-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** A command that runs until it is stopped, and says which process to watch. */
const LONG_COMMAND = 'sleep 30 & echo "pid=$!"; wait';

function freshHome(): string {
  return mkdtempSync(join(scratch, 'home-'));
}

function auditFile(home: string): string {
  return join(home, '.opsmate', 'audit.jsonl');
}

/** Waits, a bounded while, for a process to be gone. Returns whether it went. */
async function gone(pid: number): Promise<boolean> {
  for (let attempt = 0; attempt < 100; attempt++) {
    if (!processAlive(pid)) return true;
    await sleep(50);
  }
  return false;
}

async function waitForFile(path: string): Promise<string> {
  for (let attempt = 0; attempt < 600; attempt++) {
    if (existsSync(path)) {
      const text = readFileSync(path, 'utf8');
      if (text.endsWith('\n')) return text.trim();
    }
    await sleep(50);
  }
  throw new Error(`${path} never appeared`);
}

/** The process group of a process, from /proc, so a test can clean up what a SIGKILL left. */
function processGroup(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
  } catch {
    return undefined;
  }
}

describe('signals to opsmate exec while a command runs (local runtime)', () => {
  for (const [signal, code] of [
    ['SIGTERM', 143],
    ['SIGHUP', 129],
  ] as const) {
    it(`${signal} stops the command, records it as stopped by ${signal}, and exits ${code}`, async () => {
      const home = freshHome();
      const cli = startCliIsolated({ home, args: ['exec', '--', LONG_COMMAND] });
      const [, pid] = await cli.waitForOutput(/pid=(\d+)\n/);
      cli.kill(signal);
      const result = await cli.done;
      assert.equal(result.exitCode, code, result.stderr);
      assert.equal(await gone(Number(pid)), true, 'the command is still running');
      const [command] = readAuditCommands(auditFile(home));
      assert.equal(command!.command, LONG_COMMAND);
      assert.equal(command!.finished, true);
      assert.equal(command!.cancelled, true);
      assert.equal(command!.signal, signal);
      const verified = verifyAuditLog(auditFile(home));
      assert.equal(verified.problem, undefined, verified.problem?.message);
      assert.deepEqual(verified.unfinished, []);
    });
  }

  it('SIGKILL leaves a started record without a finished one, and audit verify reports it', async () => {
    const home = freshHome();
    const cli = startCliIsolated({ home, args: ['exec', '--', LONG_COMMAND] });
    const [, pid] = await cli.waitForOutput(/pid=(\d+)\n/);
    const group = processGroup(Number(pid));
    cli.kill('SIGKILL');
    const result = await cli.done;
    assert.equal(result.signal, 'SIGKILL');
    try {
      const verify = await runCliIsolated({
        args: ['audit', 'verify'],
        env: { OPSMATE_HOME: join(home, '.opsmate') },
      });
      assert.equal(verify.exitCode, 0, verify.stderr);
      assert.match(
        verify.stdout,
        new RegExp(
          `^command #1 \\(line 2\\) started at \\S+ has no finished record: opsmate \\(pid ${cli.pid} on \\S+\\) was killed while it ran, or the machine went down: sleep 30`,
          'm',
        ),
      );
      assert.match(
        verify.stdout,
        /2 entries, 1 command, chain intact; 1 command without a finished record\n$/,
      );
    } finally {
      // Nothing of opsmate was left to stop the orphaned shell: do it here.
      if (group !== undefined) {
        try {
          process.kill(-group, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
  });
});

describe('signals to the agent while its command runs (local runtime)', () => {
  let fake: FakeLlmServer;
  before(async () => {
    fake = await FakeLlmServer.start();
  });
  after(async () => {
    await fake?.close();
  });

  it('SIGTERM to `opsmate run` stops the tool call, records it with the instruction, and exits 143', async () => {
    const home = freshHome();
    const pidFile = join(home, 'pid');
    fake.enqueue({
      toolCalls: [{ name: 'ShellCommand', args: { command: `sleep 30 & echo $! > ${pidFile}; wait` } }],
    });
    const cli = startCliIsolated({
      home,
      args: ['run', 'wait for it', '-m', 'gpt-4o', '--policy-profile', 'ask-destructive'],
      env: { OPENAI_API_KEY: 'sk-fake-test-key-000000000000', OPENAI_BASE_URL: fake.openAiBaseUrl },
    });
    const pid = Number(await waitForFile(pidFile));
    cli.kill('SIGTERM');
    const result = await cli.done;
    assert.equal(result.exitCode, 143, result.stderr);
    assert.match(result.stderr, /opsmate: interrupted/);
    assert.equal(await gone(pid), true, 'the command is still running');
    const [command] = readAuditCommands(auditFile(home));
    assert.equal(command!.instruction, 'wait for it');
    assert.equal(command!.cancelled, true);
    assert.equal(command!.signal, 'SIGTERM');
  });

  it('SIGHUP to `opsmate chat` stops the tool call, records it, and leaves the chat with 129', async () => {
    const home = freshHome();
    const pidFile = join(home, 'pid');
    fake.enqueue({
      toolCalls: [{ name: 'ShellCommand', args: { command: `sleep 30 & echo $! > ${pidFile}; wait` } }],
    });
    const cli = startCliIsolated({
      home,
      args: ['chat', '-m', 'gpt-4o', '--policy-profile', 'ask-destructive'],
      input: 'start the long job\n',
      env: { OPENAI_API_KEY: 'sk-fake-test-key-000000000000', OPENAI_BASE_URL: fake.openAiBaseUrl },
    });
    const pid = Number(await waitForFile(pidFile));
    cli.kill('SIGHUP');
    const result = await cli.done;
    assert.equal(result.exitCode, 129, result.stderr);
    assert.equal(await gone(pid), true, 'the command is still running');
    const [command] = readAuditCommands(auditFile(home));
    assert.equal(command!.instruction, 'start the long job');
    assert.equal(command!.signal, 'SIGHUP');
    assert.equal(command!.finished, true);
  });
});
