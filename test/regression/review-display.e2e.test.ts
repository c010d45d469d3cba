// Regression test (red-team finding 28): the command a reviewer
// approves must be shown as it is. Runs `opsmate run -r` on a pseudo-terminal (util-linux
// `script`) against the fake model, which proposes a command that hides itself with `\r ESC[2K`.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FakeLlmServer } from '../../test-support/fake-llm/index.js';
import { ptyMissingReason } from '../../test-support/pty-session.js';
import { CLI_PATH, requireBuilt } from '../../test-support/run-cli.js';

describe(
  'red team, review: the reviewer sees the real command (finding 28)',
  { skip: ptyMissingReason() ?? false },
  () => {
    let fake: FakeLlmServer;
    let dir: string;
    before(async () => {
      requireBuilt();
      fake = await FakeLlmServer.start();
      dir = mkdtempSync(join(tmpdir(), 'opsmate-redteam-review-'));
    });
    after(async () => {
      await fake?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('control characters in a proposed command cannot erase it from the review', async () => {
      const victim = join(dir, 'important');
      writeFileSync(victim, 'precious\n');
      const disguised = `rm -rf ${victim} #\r\x1b[2K$ ls -la /var/log`;
      fake.enqueue(
        { toolCalls: [{ name: 'ShellCommand', args: { description: 'list logs', command: disguised } }] },
        { text: 'Done.' },
      );
      const argv = [
        process.execPath,
        CLI_PATH,
        'run',
        '-r',
        'check the logs',
        '--shell-command-runtime',
        'local',
      ];
      const command = `exec ${argv.map((word) => `'${word.replaceAll("'", `'\\''`)}'`).join(' ')}`;
      const child = spawn('/usr/bin/script', ['-qfec', command, '/dev/null'], {
        env: {
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          HOME: dir,
          OPSMATE_HOME: join(dir, 'home'),
          TERM: 'xterm',
          NO_COLOR: '1',
          LANG: 'C.UTF-8',
          OPENAI_BASE_URL: fake.openAiBaseUrl,
        },
      });
      let screen = '';
      child.stdout.setEncoding('utf8').on('data', (text: string) => (screen += text));
      const deadline = Date.now() + 30_000;
      while (!/Run it\?/.test(screen) && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 100));
      child.stdin.write('n\n');
      await new Promise((resolve) => setTimeout(resolve, 300));
      child.stdin.write('\n');
      const closed = new Promise((resolve) => child.on('close', resolve));
      await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 10_000))]);
      child.kill('SIGKILL');
      assert.match(screen, /Run it\?/, `no review prompt:\n${screen}`);
      assert.ok(existsSync(victim), 'the command ran');
      assert.ok(
        !screen.includes(`#\r\x1b[2K$ ls -la /var/log`),
        'the command was written to the terminal with its control characters, which erase "rm -rf" from view',
      );
    });
  },
);
