import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { FakeLlmServer, toolResultsOf } from '../../test-support/fake-llm/index.js';
import { integrationSkip } from '../../test-support/integration.js';
import { PtySession, ptyMissingReason } from '../../test-support/pty-session.js';
import { CLI_PATH, runCliIsolated } from '../../test-support/run-cli.js';

/** Review and the per-turn summary on a real terminal (util-linux `script`). */
describe(
  'review [q]uit turn, the command shown once, tokens after the turn',
  { skip: integrationSkip('pty', ptyMissingReason()) },
  () => {
    let fake: FakeLlmServer;
    const ptys: PtySession[] = [];
    let home: string;
    before(async () => {
      fake = await FakeLlmServer.start();
    });
    after(async () => {
      for (const pty of ptys) pty.kill();
      await fake.close();
    });
    beforeEach(() => {
      fake.reset();
      home = mkdtempSync(join(tmpdir(), 'wt-cfg-pty-'));
    });

    function open(args: string[]): PtySession {
      const pty = new PtySession([process.execPath, CLI_PATH, ...args], {
        env: {
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          HOME: home,
          OPSMATE_HOME: join(home, '.opsmate'),
          NO_COLOR: '1',
          OPENAI_BASE_URL: fake.openAiBaseUrl,
        },
      });
      ptys.push(pty);
      return pty;
    }

    it('run -r: q ends the turn, runs nothing, asks the model nothing more, exits 130, and is audited', async () => {
      const never = join(home, 'never-made');
      fake.enqueue(
        {
          toolCalls: [
            { name: 'ShellCommand', args: { command: `touch ${never}` } },
            { name: 'ShellCommand', args: { command: `touch ${never}-2` } },
          ],
        },
        { text: 'must not be asked' },
      );
      const session = open(['run', '-r', 'make a file']);
      // The policy flagged `touch`: an explicit answer is needed, and always/quit are offered.
      const at = await session.waitFor(/Run it\? yes \/ edit \/ always \/ no \/ quit turn: $/);
      session.type('q\r');
      await session.waitFor(/opsmate: stopped: you ended the turn in review/, at);
      assert.equal(await session.exited(), 130, session.screen);
      assert.equal(existsSync(never), false);
      assert.equal(existsSync(`${never}-2`), false);
      assert.equal(fake.requests.length, 1, 'no further model call after q');
      assert.equal(fake.pending, 1);
      const audit = await runCliIsolated({
        args: ['audit', 'show', '--json'],
        env: { HOME: home, OPSMATE_HOME: join(home, '.opsmate') },
      });
      const commands = JSON.parse(audit.stdout) as Array<{ outcome: string; reason: string }>;
      assert.equal(commands[0]!.outcome, 'cancelled');
      assert.match(commands[0]!.reason, /ended the turn in review/);
      const sessions = await runCliIsolated({
        args: ['sessions', 'list', '-o', 'json'],
        env: { HOME: home, OPSMATE_HOME: join(home, '.opsmate') },
      });
      assert.equal(
        (JSON.parse(sessions.stdout) as Array<{ lastStopReason: string }>)[0]!.lastStopReason,
        'quit',
      );
    });

    it('solve -a -r: the review shows the command (the agent printed none); tokens and cost after the turn', async () => {
      fake.enqueue(
        {
          toolCalls: [{ name: 'ShellCommand', args: { command: 'echo shown-once' } }],
          usage: { input: 1000, output: 100 },
        },
        { text: 'Done.', usage: { input: 2000, output: 50 } },
      );
      const session = open(['solve', '-a', '-r', '-m', 'openai:gpt-4o', 'go']);
      const at = await session.waitFor(/Run it\? /);
      session.type('y\r');
      await session.waitFor(/Done\.\n/, at);
      // gpt-4o at $2.50 in / $10 out per million tokens: 3000 in, 150 out.
      await session.waitFor(/tokens 3,000 in · 150 out · ≈ \$0\.0090 · 1 command · \d+\.\d s/, at);
      assert.equal(await session.exited(), 0, session.screen);
      assert.equal(
        session.screen.split('echo shown-once').length - 1,
        1,
        `the command shows once:\n${session.screen}`,
      );
      assert.match(toolResultsOf(fake.requests[1]!)[0]!, /shown-once/);
    });
  },
);
