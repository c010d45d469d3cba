import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { CommandRuntime, type CommandExecution, type CommandOutcome } from './command-runtime.js';
import { runWithLimits } from './run-limits.js';

const spillDir = mkdtempSync(join(tmpdir(), 'opsmate-command-runtime-'));
after(() => rmSync(spillDir, { recursive: true, force: true }));

/** Its commands ignore the abort signal: `hang` never settles on its own within the test. */
class StubbornRuntime extends CommandRuntime {
  opened = 0;
  closed = 0;
  constructor() {
    super({
      name: 'stubborn',
      context: { spillDir, outputLimitBytes: 1024 },
      language: { id: 'x', description: 'x' },
      stopGraceMs: 200,
    });
  }
  protected async open(): Promise<void> {
    this.opened++;
  }
  protected async close(): Promise<void> {
    this.closed++;
  }
  protected async execute(command: string, execution: CommandExecution): Promise<CommandOutcome> {
    if (command === 'hang') await sleep(3_000);
    await execution.write('stdout', `${command}\n`);
    return { exitCode: 0 };
  }
  async runtimeInfo(): Promise<string> {
    return 'Runtime: stubborn.';
  }
  target(): Record<string, string> {
    return {};
  }
}

describe('CommandRuntime', () => {
  it('resets the session when a stopped command does not settle, and reopens it for the next', async () => {
    const runtime = new StubbornRuntime();
    const result = await runtime.run('hang', { timeoutMs: 200 });
    assert.equal(result.timedOut, true);
    assert.equal(result.exitCode, null);
    assert.equal(result.shellExited, true);
    assert.match(
      result.notice ?? '',
      /^timed out after 0\.2 s; the command was stopped; it did not stop in time, so the session was closed/,
    );
    assert.equal(runtime.closed, 1);
    const next = await runtime.run('echo');
    assert.equal(next.stdout, 'echo\n');
    assert.equal(runtime.opened, 2);
    await runtime.disconnect();
  });

  it('lets a rejection of the work through when no limit fired', async () => {
    const outcome = await runWithLimits({ timeoutMs: 1_000 }, () => Promise.reject(new Error('broken')));
    assert.equal(outcome.settled, true);
    assert.ok('error' in outcome && (outcome.error as Error).message === 'broken');
    assert.equal('interruption' in outcome ? outcome.interruption : undefined, undefined);
  });
});
