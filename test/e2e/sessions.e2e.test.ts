import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { toolResultsOf, userTextsOf } from '../../test-support/fake-llm/index.js';
import { fakeModelCli } from '../../test-support/cli-workspace.js';
import { runCliIsolated } from '../../test-support/run-cli.js';

/** A secret the model's command prints; it must not be kept anywhere in a session. */
const AWS_KEY = 'AKIAIOSFODNN7EXAMPLE';

describe('sessions: every run, solve and chat is kept, masked, and can be resumed', () => {
  const w = fakeModelCli('wt-cfg-sessions-');
  const cli = (args: string[], extra: { input?: string; env?: Record<string, string> } = {}) =>
    w.cli(args, extra);
  const sessionsDir = (): string => join(w.home, '.opsmate', 'sessions');

  it('solve is saved with its commands, exit codes, tokens and answer; list and show read it back; secrets masked', async () => {
    w.fake.enqueue(
      {
        text: 'Checking the disk.',
        toolCalls: [
          {
            name: 'ShellCommand',
            args: { command: `echo root-ok; echo ${AWS_KEY} >&2`, description: 'disk' },
          },
          { name: 'ShellCommand', args: { command: 'exit 3' } },
          { name: 'ShellCommand', args: { command: 'rm -rf /tmp/wt-cfg-never-deleted' } },
        ],
        usage: { input: 1200, output: 80 },
      },
      { text: 'The disk is fine.', usage: { input: 1500, output: 20 } },
    );
    const run = await cli(['solve', 'is the disk full?']);
    assert.equal(run.exitCode, 0, run.stderr);
    const files = readdirSync(sessionsDir());
    assert.equal(files.length, 1);
    const file = join(sessionsDir(), files[0]!);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(statSync(sessionsDir()).mode & 0o777, 0o700);
    const saved = readFileSync(file, 'utf8');
    assert.equal(saved.includes(AWS_KEY), false, 'the session is masked like what the model sees');
    assert.match(saved, /\[REDACTED:aws-access-key-id\]/);

    const list = await cli(['sessions', 'list', '-o', 'json']);
    const [summary] = JSON.parse(list.stdout) as Array<{
      id: string;
      kind: string;
      turns: number;
      title: string;
      usage: { inputTokens: number; outputTokens: number };
      lastStopReason: string;
    }>;
    assert.equal(summary!.kind, 'solve');
    assert.equal(summary!.turns, 1);
    assert.equal(summary!.title, 'is the disk full?');
    assert.deepEqual([summary!.usage.inputTokens, summary!.usage.outputTokens], [2700, 100]);
    assert.equal(summary!.lastStopReason, 'answer');
    assert.equal(`${summary!.id}.json`, files[0]);
    const table = await cli(['sessions', 'list']);
    assert.match(
      table.stdout,
      new RegExp(
        `^${summary!.id}\\s+\\S+ \\S+\\s+solve\\s+openai:fake-model\\s+local .*\\s1\\s+2800\\s+is the disk full\\?$`,
        'm',
      ),
    );

    const shown = await cli(['sessions', 'show', summary!.id.slice(-4)]);
    assert.equal(shown.exitCode, 0, shown.stderr);
    assert.match(shown.stdout, /^Session \S+: is the disk full\?$/m);
    assert.match(shown.stdout, /^Target: +local \(host=/m);
    assert.match(shown.stdout, /^Thought: Checking the disk\.$/m);
    assert.match(
      shown.stdout,
      /1\. \$ echo root-ok; echo \[REDACTED:aws-access-key-id\] >&2\n\s+exit 0 · \d+ ms/,
    );
    assert.match(shown.stdout, /2\. \$ exit 3\n\s+exit 3 · /);
    assert.match(
      shown.stdout,
      /3\. \$ rm -rf \/tmp\/wt-cfg-never-deleted\n\s+not run · 0 ms · not run: needs approval/,
    );
    assert.match(shown.stdout, /Answer:\n\n {2}The disk is fine\./);

    const markdown = await cli(['sessions', 'show', summary!.id, '--markdown']);
    assert.match(markdown.stdout, /^# Session \S+: is the disk full\?$/m);
    assert.match(markdown.stdout, /^- \*\*Model:\*\* openai:fake-model$/m);
    assert.match(markdown.stdout, /^\| # \| Command \| Exit \| Duration \| Note \|$/m);
    assert.match(markdown.stdout, /^\| 2 \| ` exit 3 ` \| exit 3 \| \d+ ms \| {2}\|$/m);
    assert.match(markdown.stdout, /^### Answer\n\nThe disk is fine\.$/m);

    const json = JSON.parse((await cli(['sessions', 'show', summary!.id, '-o', 'json'])).stdout) as {
      messages: unknown[];
      system: string;
    };
    assert.ok(json.messages.length >= 4, 'instruction, tool calls, tool results, answer');
    assert.match(json.system, /OS info:/);

    const missing = await cli(['sessions', 'show', 'nope']);
    assert.equal(missing.exitCode, 2);
    assert.match(
      missing.stderr,
      /^opsmate: error: no session "nope" in .*\nopsmate: hint: see `opsmate sessions list`/,
    );
  });

  it('chat --resume ID and --continue go on with the conversation, in the same session and audit session', async () => {
    w.fake.enqueue(
      { toolCalls: [{ name: 'ShellCommand', args: { command: 'echo first-turn-output' } }] },
      { text: 'First answer.' },
    );
    assert.equal((await cli(['run', 'first question'])).exitCode, 0);
    const [first] = JSON.parse((await cli(['sessions', 'list', '-o', 'json'])).stdout) as Array<{
      id: string;
    }>;

    w.fake.enqueue({ text: 'Second answer.' });
    const resumed = await cli(['chat', '--resume', first!.id], { input: 'second question\n' });
    assert.equal(resumed.exitCode, 0, resumed.stderr);
    assert.match(resumed.stderr, new RegExp(`resuming session ${first!.id} \\(1 turn, run, local`));
    const request = w.fake.requests.at(-1)!;
    assert.deepEqual(userTextsOf(request), ['first question', 'second question']);
    assert.match(toolResultsOf(request)[0]!, /first-turn-output/, 'the model sees the earlier tool results');

    w.fake.enqueue({ text: 'Third answer.' });
    const continued = await cli(['chat', '--continue'], { input: 'third question\n' });
    assert.equal(continued.exitCode, 0, continued.stderr);
    assert.deepEqual(userTextsOf(w.fake.requests.at(-1)!), [
      'first question',
      'second question',
      'third question',
    ]);

    const sessions = JSON.parse((await cli(['sessions', 'list', '-o', 'json'])).stdout) as Array<{
      id: string;
      turns: number;
    }>;
    assert.deepEqual(
      sessions.map((session) => [session.id, session.turns]),
      [[first!.id, 3]],
    );
    const audit = JSON.parse((await cli(['audit', 'show', '--json'])).stdout) as Array<{
      sessionId: string;
      command: string;
    }>;
    assert.deepEqual(
      audit.map((command) => [command.sessionId, command.command]),
      [[first!.id, 'echo first-turn-output']],
    );
    const bySession = JSON.parse(
      (await cli(['audit', 'show', '--session', first!.id.slice(0, 15), '-o', 'json'])).stdout,
    ) as unknown[];
    assert.equal(bySession.length, 1);

    const nothing = await runCliIsolated({
      args: ['chat', '--continue'],
      env: { OPENAI_BASE_URL: w.fake.openAiBaseUrl },
    });
    assert.equal(nothing.exitCode, 2);
    assert.match(nothing.stderr, /^opsmate: error: there is no saved session in .* to continue/);
  });

  it('--save-sessions false (or OPSMATE_SAVE_SESSIONS=false) keeps nothing', async () => {
    w.fake.enqueue({ text: 'a' }, { text: 'b' });
    assert.equal((await cli(['run', '--save-sessions', 'false', 'hi'])).exitCode, 0);
    assert.equal((await cli(['run', 'hi'], { env: { OPSMATE_SAVE_SESSIONS: 'false' } })).exitCode, 0);
    assert.throws(() => readdirSync(sessionsDir()), /ENOENT/);
  });

  it('a model failure is kept as a failed turn', async () => {
    w.fake.enqueue({ error: { status: 400, message: 'bad request from the fake' } });
    const run = await cli(['run', 'this fails']);
    assert.equal(run.exitCode, 1);
    const [summary] = JSON.parse((await cli(['sessions', 'list', '-o', 'json'])).stdout) as Array<{
      lastStopReason: string;
    }>;
    assert.equal(summary!.lastStopReason, 'error');
    const shown = await cli(['sessions', 'show', 'last']);
    assert.match(shown.stdout, /Error: .*bad request from the fake/);
  });
});

describe('audit show: the audit log as a table', () => {
  it('shows time, target, command, decision, exit and duration, filtered by --since, --target and -n', async () => {
    const home = mkdtempSync(join(tmpdir(), 'wt-cfg-audit-'));
    const env = { HOME: home, OPSMATE_HOME: join(home, '.opsmate') };
    for (const command of ['echo one', 'exit 4', 'sleep 5']) {
      await runCliIsolated({
        args: ['exec', ...(command === 'sleep 5' ? ['--timeout', '0.2'] : []), '--', command],
        env,
      });
    }
    await runCliIsolated({
      args: ['exec', '--policy-profile', 'read-only', '--', 'rm -rf /tmp/wt-cfg-nope'],
      env,
    });
    const table = await runCliIsolated({ args: ['audit', 'show'], env });
    assert.equal(table.exitCode, 0, table.stderr);
    const lines = table.stdout.trimEnd().split('\n');
    assert.match(lines[0]!, /^Time\s+Target\s+Command\s+Decision\s+Exit\s+Duration$/);
    assert.match(
      lines[1]!,
      /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s+local \S+ \S+\s+echo one\s+allowed \[ask-destructive\]\s+0\s+\d+ ms$/,
    );
    assert.match(lines[2]!, /\s+exit 4\s+allowed \S+\s+4\s+/);
    assert.match(lines[3]!, /\s+sleep 5\s+allowed \S+\s+timed out\s+/);
    assert.match(
      lines[4]!,
      /\s+rm -rf \/tmp\/wt-cfg-nope\s+refused: no terminal \[read-only:\S+\]\s+not run$/,
    );
    const json = JSON.parse(
      (await runCliIsolated({ args: ['audit', 'show', '--json', '-n', '2'], env })).stdout,
    ) as Array<{ command: string; exitCode: number | null; timedOut?: boolean }>;
    assert.deepEqual(
      json.map((command) => command.command),
      ['sleep 5', 'rm -rf /tmp/wt-cfg-nope'],
    );
    const future = await runCliIsolated({ args: ['audit', 'show', '--since', '2999-01-01'], env });
    assert.equal(future.stdout, '');
    assert.match(future.stderr, /no commands in .* match/);
    const recent = JSON.parse(
      (await runCliIsolated({ args: ['audit', 'show', '--since', '1h', '-o', 'json'], env })).stdout,
    ) as unknown[];
    assert.equal(recent.length, 4);
    const byTarget = JSON.parse(
      (await runCliIsolated({ args: ['audit', 'show', '--target', 'ssh', '--json'], env })).stdout,
    ) as unknown[];
    assert.equal(byTarget.length, 0);
    const byHost = JSON.parse(
      (await runCliIsolated({ args: ['audit', 'show', '--target', 'host=*', '--json'], env })).stdout,
    ) as unknown[];
    assert.equal(byHost.length, 4);
    const badSince = await runCliIsolated({ args: ['audit', 'show', '--since', 'yesterday-ish'], env });
    assert.equal(badSince.exitCode, 2);
    assert.match(badSince.stderr, /^opsmate: error: --since "yesterday-ish" is not valid/);
  });
});
