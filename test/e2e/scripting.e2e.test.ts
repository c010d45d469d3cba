import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { toolResultsOf } from '../../test-support/fake-llm/index.js';
import { fakeModelCli } from '../../test-support/cli-workspace.js';

describe('scripting: -o json|jsonl, exit codes, -y, --tool-calls-per-action', () => {
  const w = fakeModelCli('wt-cfg-scripting-');
  const cli = (args: string[], env: Record<string, string> = {}) => w.cli(args, { env });

  it('solve -o jsonl: one event per line as the turn goes, the whole report last', async () => {
    w.fake.enqueue(
      {
        text: 'Looking.',
        toolCalls: [{ name: 'ShellCommand', args: { command: 'echo jsonl-out; exit 2' } }],
      },
      { text: 'It exited 2.' },
    );
    const run = await cli(['solve', '-o', 'jsonl', 'go']);
    assert.equal(run.exitCode, 0, run.stderr);
    const events = run.stdout
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    assert.deepEqual(
      events.map((event) => event.type),
      ['start', 'thought', 'command', 'answer', 'end'],
    );
    assert.equal(events[0]!.model, 'openai:fake-model');
    assert.equal(events[0]!.runtime, 'local');
    assert.equal(events[1]!.text, 'Looking.');
    assert.equal(events[2]!.command, 'echo jsonl-out; exit 2');
    assert.equal(events[2]!.exitCode, 2);
    assert.equal(typeof events[2]!.durationMs, 'number');
    assert.equal(events[3]!.text, 'It exited 2.');
    assert.equal(events[4]!.stopReason, 'answer');
    assert.deepEqual(events[4]!.usage, {
      inputTokens: 20,
      outputTokens: 10,
      totalTokens: 30,
      cachedInputTokens: 0,
      reasoningTokens: 0,
    });
    assert.equal(run.stderr, '', 'nothing but data on stdout, nothing on stderr without a terminal');
  });

  it('the step limit has its own exit status (3), in JSON as stopReason step-limit', async () => {
    const call = { toolCalls: [{ name: 'ShellCommand', args: { command: 'true' } }] };
    w.fake.enqueue(call, call);
    const run = await cli(['solve', '-i', '1', '-o', 'json', 'loop']);
    assert.equal(run.exitCode, 3);
    const report = JSON.parse(run.stdout) as {
      stopReason: string;
      steps: number;
      answer: string;
      sessionId: string;
    };
    assert.equal(report.stopReason, 'step-limit');
    assert.equal(report.steps, 2);
    assert.equal(report.answer, '');
    assert.match(report.sessionId, /^\d{8}-\d{6}-[0-9a-f]{4}$/);
    assert.match(
      run.stderr,
      /^opsmate: error: no answer after 2 model calls: the model was still calling tools\nopsmate: hint: raise --max-iter\n$/,
    );
  });

  it('a model failure still prints a JSON report, with the error, and exits 1', async () => {
    w.fake.enqueue({ error: { status: 400, message: 'the fake refuses' } });
    const run = await cli(['run', '-o', 'json', 'hi']);
    assert.equal(run.exitCode, 1);
    const report = JSON.parse(run.stdout) as { stopReason: string; error: string; hint?: string };
    assert.equal(report.stopReason, 'error');
    assert.match(report.error, /the fake refuses/);
    assert.match(run.stderr, /^opsmate: error: .*the fake refuses/);
    const bad = await cli(['run', '-o', 'yaml', 'hi']);
    assert.equal(bad.exitCode, 2);
    assert.match(
      bad.stderr,
      /^opsmate: error: --output "yaml" is not valid: expected one of text, json, jsonl/,
    );
  });

  it('-y runs what the policy asks about, recorded as --yes; deny rules still hold', async () => {
    const made = join(w.home, 'made-by-yes');
    const denied = join(w.home, 'denied-even-with-yes');
    const policy = join(w.home, 'policy.yaml');
    writeFileSync(
      policy,
      `rules:\n  - action: deny\n    match: denied-even-with-yes\n    reason: never this one\n`,
    );
    w.fake.enqueue(
      {
        toolCalls: [
          { name: 'ShellCommand', args: { command: `touch ${made}` } },
          { name: 'ShellCommand', args: { command: `touch ${denied}` } },
        ],
      },
      { text: 'done' },
    );
    const run = await cli(['run', '-y', '--policy-file', policy, '-o', 'json', 'make files']);
    assert.equal(run.exitCode, 0, run.stderr);
    assert.equal(existsSync(made), true, 'the read-only profile asked, -y approved');
    assert.equal(existsSync(denied), false, 'deny still applies');
    const report = JSON.parse(run.stdout) as { commands: Array<{ ran: boolean; notice?: string }> };
    assert.deepEqual(
      report.commands.map((command) => command.ran),
      [true, false],
    );
    assert.match(report.commands[1]!.notice ?? '', /denied by policy rule .*never this one/);
    const audit = JSON.parse((await cli(['audit', 'show', '--json'])).stdout) as Array<{
      decidedBy: string;
      outcome: string;
    }>;
    assert.deepEqual(
      audit.map((command) => [command.outcome, command.decidedBy]),
      [
        ['approved', '--yes'],
        ['denied', 'policy'],
      ],
    );
  });

  it('--tool-calls-per-action 1: the second call of a step is not run, and the model is told', async () => {
    w.fake.enqueue(
      {
        toolCalls: [
          { name: 'ShellCommand', args: { command: 'echo first' } },
          { name: 'ShellCommand', args: { command: 'echo second' } },
        ],
      },
      { text: 'ok' },
    );
    const run = await cli(['solve', '--tool-calls-per-action', '1', '-o', 'json', 'go']);
    assert.equal(run.exitCode, 0, run.stderr);
    const [first, second] = toolResultsOf(w.fake.requests[1]!);
    assert.match(first!, /Command: echo first\nExit code: 0/);
    assert.match(second!, /Not run: at most 1 tool call per step/);
    const report = JSON.parse(run.stdout) as { commands: Array<{ command: string; ran: boolean }> };
    assert.deepEqual(
      report.commands.map((command) => command.ran),
      [true, false],
    );
    const bad = await cli(['solve', '--tool-calls-per-action', '0', 'go']);
    assert.equal(bad.exitCode, 2);
  });

  it('-o json on the list commands, policy check, exec --info and version', async () => {
    const tools = JSON.parse((await cli(['list-tools', '-o', 'json'])).stdout) as Array<{
      name: string;
      description: string;
      readOnly: boolean;
      source: string;
    }>;
    const shell = tools.find((tool) => tool.name === 'ShellCommand')!;
    assert.deepEqual([shell.readOnly, shell.source], [false, 'built-in']);
    assert.match(shell.description, /\S/);
    const contexts = JSON.parse((await cli(['list-contexts', '-o', 'json'])).stdout) as Array<{
      name: string;
      tools: string[];
    }>;
    assert.ok(contexts.some((context) => context.name === 'cli' && context.tools.includes('ShellCommand')));
    const runtimes = JSON.parse((await cli(['list-runtimes', '-o', 'json'])).stdout) as Array<{
      name: string;
      options: Array<{ env: string }>;
    }>;
    assert.ok(
      runtimes
        .find((runtime) => runtime.name === 'ssh')!
        .options.some((option) => option.env === 'RUNTIME_SSH_HOST'),
    );
    assert.deepEqual(JSON.parse((await cli(['list-plugins', '-o', 'json'])).stdout), []);
    const decision = JSON.parse((await cli(['policy', 'check', '-o', 'json', 'rm -rf /var/log'])).stdout) as {
      action: string;
      profile: string;
      rule: string;
      parts: unknown[];
    };
    assert.equal(decision.action, 'ask');
    assert.equal(decision.profile, 'read-only');
    const info = JSON.parse((await cli(['exec', '--info', '-o', 'json'])).stdout) as {
      runtime: string;
      user: string;
      failures: string[];
    };
    assert.equal(info.runtime, 'local');
    assert.equal(typeof info.user, 'string');
    assert.deepEqual(info.failures, []);
    const notInfo = await cli(['exec', '-o', 'json', '--', 'true']);
    assert.equal(notInfo.exitCode, 2);
    const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    assert.equal((await cli(['version'])).stdout, `${manifest.version}\n`);
    const version = JSON.parse((await cli(['version', '-o', 'json'])).stdout) as {
      version: string;
      node: string;
    };
    assert.equal(version.version, manifest.version);
    assert.equal(version.node, process.version);
  });
});
