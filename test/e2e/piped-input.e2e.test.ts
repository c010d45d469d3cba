import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { FakeLlmServer, userTextsOf } from '../../test-support/fake-llm/index.js';
import { CLI_PATH, requireBuilt } from '../../test-support/run-cli.js';

/** `PRODUCER | opsmate ARGS` in a real shell pipeline (stdin is a FIFO, as from journalctl). */
function pipeline(
  producer: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ exitCode: number | null; stdout: string; stderr: string }> {
  requireBuilt();
  const quoted = [process.execPath, CLI_PATH, ...args].map((word) => `'${word.replaceAll("'", `'\\''`)}'`);
  const child = spawn('/bin/sh', ['-c', `${producer} | ${quoted.join(' ')}`], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
  child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  return new Promise((resolve) => child.on('close', (exitCode) => resolve({ exitCode, stdout, stderr })));
}

describe('piped stdin is context for run and solve (issue 12, section 3)', () => {
  let fake: FakeLlmServer;
  let env: NodeJS.ProcessEnv;
  before(async () => {
    fake = await FakeLlmServer.start();
    const home = mkdtempSync(join(tmpdir(), 'wt-cfg-stdin-'));
    env = {
      PATH: process.env.PATH,
      HOME: home,
      OPSMATE_HOME: join(home, '.opsmate'),
      OPENAI_BASE_URL: fake.openAiBaseUrl,
    };
  });
  beforeEach(() => fake.reset());
  after(() => fake.close());

  it('attaches the log to the instruction, as untrusted data', async () => {
    fake.enqueue({ text: 'it crashed on a full disk' });
    const run = await pipeline(
      `printf 'nginx: worker exited\\nno space left on device\\n'`,
      ['solve', 'why did it crash?'],
      env,
    );
    assert.equal(run.exitCode, 0, run.stderr);
    assert.equal(run.stderr, '', 'nothing to say when nothing was cut');
    const sent = userTextsOf(fake.requests[0]!)[0]!;
    assert.match(
      sent,
      /^why did it crash\?\n\nInput piped to opsmate \(2 lines, 45 bytes\):\n<untrusted-data id="[^"]+" source="piped-input">\nnginx: worker exited\nno space left on device\n<\/untrusted-data/,
    );
  });

  it('masks secrets in the piped text before the model sees it', async () => {
    fake.enqueue({ text: 'the token expired' });
    const token = `ghp_${'A1b2C3d4E5'.repeat(4)}`;
    const run = await pipeline(
      `printf 'GET /api 401\\nAuthorization: Bearer ${token}\\nDB_PASSWORD=hunter2-but-longer\\n'`,
      ['run', 'why 401?'],
      env,
    );
    assert.equal(run.exitCode, 0, run.stderr);
    const sent = userTextsOf(fake.requests[0]!)[0]!;
    assert.match(sent, /GET \/api 401/);
    assert.doesNotMatch(sent, /A1b2C3d4E5/);
    assert.doesNotMatch(sent, /hunter2/);
    assert.match(sent, /REDACTED/);
  });

  it('caps a big one to its head and tail, and says so to the user and the model', async () => {
    fake.enqueue({ text: 'read it' });
    const run = await pipeline(`seq 1 200000`, ['run', 'what is the last number?'], env);
    assert.equal(run.exitCode, 0, run.stderr);
    assert.match(
      run.stderr,
      /^opsmate: stdin attached \(200000 lines, 1288895 bytes; the model gets the first and last 32 KiB, \d+ bytes in the middle left out\)\n$/,
    );
    const sent = userTextsOf(fake.requests[0]!)[0]!;
    assert.match(sent, /cut to its first and last 32 KiB/);
    assert.match(sent, /\n1\n2\n3\n/);
    assert.match(sent, /\n199999\n200000\n<\/untrusted-data/);
    assert.ok(sent.length < 70_000, `${sent.length} characters sent`);
  });
});
