import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { integrationSkip } from '../../test-support/integration.js';
import { PtySession, ptyMissingReason } from '../../test-support/pty-session.js';
import { CLI_PATH, runCliIsolated } from '../../test-support/run-cli.js';

/** Issue 12, section 8: help that fits the terminal, the chosen runtime's options, examples. */
describe('help', () => {
  it(
    'wraps to a 60-column terminal at word boundaries',
    { skip: integrationSkip('pty', ptyMissingReason()) },
    async () => {
      const home = mkdtempSync(join(tmpdir(), 'wt-cfg-help-'));
      const session = new PtySession(
        ['/bin/sh', '-c', `stty cols 60; exec '${process.execPath}' '${CLI_PATH}' run --help`],
        {
          env: {
            PATH: process.env.PATH ?? '/usr/bin:/bin',
            HOME: home,
            OPSMATE_HOME: join(home, '.opsmate'),
            NO_COLOR: '1',
          },
        },
      );
      assert.equal(await session.exited(), 0, session.screen);
      const lines = session.screen.split('\n');
      const long = lines.filter((line) => line.length > 60);
      assert.deepEqual(long, [], 'no line wider than the terminal');
      // The --model description, re-joined, reads as written: no word was cut in two.
      const text = lines.map((line) => line.trim()).join(' ');
      assert.match(
        text,
        /Model to use: an Opsmate-style name \(gpt-4o, claude-sonnet-4-5\.\.\.\) or provider:model/,
      );
      assert.match(session.screen, /\nExamples:\n {2}opsmate run "what is using the most memory\?"\n/);
    },
  );

  it("shows the chosen runtime's options; --help-all shows every runtime's", async () => {
    const local = await runCliIsolated({ args: ['solve', '--help'] });
    assert.equal(local.exitCode, 0, local.stderr);
    assert.match(local.stdout, /^ {2}--runtime-local-cwd /m);
    assert.doesNotMatch(local.stdout, /^ {2}--runtime-ssh-host /m);
    const ssh = await runCliIsolated({ args: ['solve', '--shell-command-runtime', 'ssh', '--help'] });
    assert.match(ssh.stdout, /^ {2}--runtime-ssh-host /m);
    assert.doesNotMatch(ssh.stdout, /^ {2}--runtime-local-cwd /m);
    const all = await runCliIsolated({ args: ['solve', '--help-all'] });
    assert.equal(all.exitCode, 0, all.stderr);
    for (const flag of [
      '--runtime-local-cwd',
      '--runtime-ssh-host',
      '--runtime-docker-container-name',
      '--runtime-k8s-pod',
    ]) {
      assert.match(all.stdout, new RegExp(`^ {2}${flag} `, 'm'));
    }
    // Hidden from help, still accepted.
    const accepted = await runCliIsolated({ args: ['exec', '--runtime-ssh-host', 'x', '--', 'echo ok'] });
    assert.equal(accepted.stdout, 'ok\n', accepted.stderr);
  });

  it('a bare opsmate prints a short getting-started, exit 0', async () => {
    const bare = await runCliIsolated({ args: [] });
    assert.equal(bare.exitCode, 0, bare.stderr);
    assert.match(bare.stdout, /^opsmate: an AI SRE assistant\./);
    assert.match(bare.stdout, /opsmate run "why is nginx returning 502\?"/);
    assert.ok(bare.stdout.split('\n').length < 25, 'short');
  });
});
