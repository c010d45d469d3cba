import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FakeLlmServer } from '../../test-support/fake-llm/index.js';
import { CLI_PATH, requireBuilt } from '../../test-support/run-cli.js';

/**
 * `opsmate run ... | head -1`: the reader of stdout goes away while opsmate still writes. opsmate
 * stops what it was doing, quietly, with exit status 0 (issue 12, section 2). The pipe is real:
 * the test reads the first chunk and closes its end, as `head -1` does.
 */
async function firstChunkThenClose(
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ exitCode: number | null; first: string; stderr: string }> {
  requireBuilt();
  const child = spawn(process.execPath, [CLI_PATH, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  const first = await new Promise<string>((resolve) => {
    child.stdout.once('data', (chunk: Buffer) => {
      child.stdout.destroy();
      resolve(chunk.toString('utf8'));
    });
  });
  const exitCode = await new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { exitCode, first, stderr };
}

describe('a closed stdout (| head -1)', () => {
  let fake: FakeLlmServer;
  let env: NodeJS.ProcessEnv;
  before(async () => {
    fake = await FakeLlmServer.start();
    const home = mkdtempSync(join(tmpdir(), 'wt-cfg-pipe-'));
    env = {
      PATH: process.env.PATH,
      HOME: home,
      OPSMATE_HOME: join(home, '.opsmate'),
      OPENAI_BASE_URL: fake.openAiBaseUrl,
    };
  });
  after(() => fake.close());

  it('run: stops the command and the turn, exit 0, no stack trace, nothing said', async () => {
    fake.enqueue(
      { toolCalls: [{ name: 'ShellCommand', args: { command: 'seq 1 3000000' } }] },
      { text: 'counted' },
    );
    const run = await firstChunkThenClose(['run', '--policy-profile', 'allow-all', 'count'], env);
    assert.match(run.first, /^\$ seq 1 3000000/);
    assert.equal(run.exitCode, 0, run.stderr);
    assert.equal(run.stderr, '');
  });

  it('exec and a listing: exit 0, nothing on stderr', async () => {
    const exec = await firstChunkThenClose(['exec', '--', 'seq 1 3000000'], env);
    assert.equal(exec.exitCode, 0, exec.stderr);
    assert.equal(exec.stderr, '');
    const list = await firstChunkThenClose(['list-models'], env);
    assert.equal(list.exitCode, 0, list.stderr);
    assert.equal(list.stderr, '');
  });
});
