// A chat over two targets at once, against the fake model (test-support/fake-llm): the local
// machine and a real Docker container (busybox, sh). The model names the target of every call;
// each target keeps its own shell; the audit log, the header and the tool schema name both.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  busyboxImageMissingReason,
  ensureBusyboxImage,
  removeContainers,
  startSleepingContainer,
  uniqueContainerName,
} from '../../test-support/docker-images.js';
import { FakeLlmServer, systemPromptOf, toolResultsOf } from '../../test-support/fake-llm/index.js';
import { integrationSkip } from '../../test-support/integration.js';
import { runCliIsolated } from '../../test-support/run-cli.js';

const skip = integrationSkip('dockerd', busyboxImageMissingReason());

describe('chat over two targets: local and a container', { skip }, () => {
  let fake: FakeLlmServer;
  let container = '';
  let home = '';
  before(async () => {
    fake = await FakeLlmServer.start();
    container = await startSleepingContainer({
      image: await ensureBusyboxImage(),
      name: uniqueContainerName('wt-targets-chat'),
    });
    home = mkdtempSync(join(tmpdir(), 'wt-targets-chat-'));
    mkdirSync(join(home, '.opsmate'));
    writeFileSync(
      join(home, '.opsmate', 'config.yaml'),
      `targets:\n  here: { runtime: local }\n  box: { runtime: docker, containerName: ${container} }\n`,
      { mode: 0o600 },
    );
  });
  after(async () => {
    await fake?.close();
    await removeContainers(container ? [container] : []);
  });

  it('runs commands on each target, in its own shell, and the audit names both', async () => {
    fake.enqueue(
      {
        toolCalls: [
          { name: 'ShellCommand', args: { target: 'here', command: 'cd /usr && echo local-$((20+1))' } },
          { name: 'ShellCommand', args: { target: 'box', command: 'cd /etc && echo box-$0' } },
        ],
      },
      {
        toolCalls: [
          { name: 'ShellCommand', args: { target: 'here', command: 'pwd' } },
          { name: 'ShellCommand', args: { target: 'box', command: 'pwd' } },
          // No target: refused by the schema, nothing runs.
          { name: 'ShellCommand', args: { command: 'echo nowhere' } },
        ],
      },
      { text: 'Both checked.' },
    );
    const run = await runCliIsolated({
      args: ['chat', '-t', 'here', '-t', 'box'],
      input: 'check both\n',
      env: { HOME: home, OPSMATE_HOME: join(home, '.opsmate'), OPENAI_BASE_URL: fake.openAiBaseUrl },
    });
    assert.equal(run.exitCode, 0, run.stderr);
    assert.match(run.stdout, /Both checked\./);

    const system = systemPromptOf(fake.requests[0]!);
    assert.match(system, /This session has 2 targets: here, box\./);
    assert.match(system, /Target box \(docker runtime\):\n/);
    assert.match(system, /Target box[\s\S]*<untrusted-data id="\w+" source="[\w-]+">/);
    const tools = fake.requests[0]!.body.tools as Array<{
      function?: { name?: string; parameters?: unknown };
    }>;
    const shell = tools.find((tool) => tool.function?.name === 'ShellCommand');
    const targetArgument = (shell?.function?.parameters as { properties?: { target?: { enum?: string[] } } })
      .properties?.target;
    assert.deepEqual(targetArgument?.enum, ['here', 'box']);
    const spilled = tools.find((tool) => tool.function?.name === 'ReadSpilledOutput');
    assert.equal(
      (spilled?.function?.parameters as { properties?: Record<string, unknown> } | undefined)?.properties
        ?.target,
      undefined,
      'a tool that never touches a target takes no target',
    );

    const first = toolResultsOf(fake.requests[1]!);
    assert.match(first[0]!, /\nlocal-21\n/);
    assert.match(first[1]!, /\nbox-\/bin\/sh\n/);
    // The request carries the whole history: the last three results are the second round's.
    const second = toolResultsOf(fake.requests[2]!).slice(-3);
    assert.match(second[0]!, /\n\/usr\n/);
    assert.match(second[1]!, /\n\/etc\n/);
    assert.match(second[2]!, /^Invalid arguments for ShellCommand; nothing was run[\s\S]*- target: /);
    assert.doesNotMatch(second[2]!, /nowhere\n/);

    const records = readFileSync(join(home, '.opsmate', 'audit.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map(
        (line) =>
          JSON.parse(line) as {
            type: string;
            runtime?: string;
            target?: Record<string, string>;
            command?: string;
            sessionId?: string;
          },
      );
    const started = records.filter((record) => record.type === 'started');
    assert.deepEqual(
      started.map((record) => [record.target?.target, record.runtime, record.command]),
      [
        ['here', 'local', 'cd /usr && echo local-$((20+1))'],
        ['box', 'docker', 'cd /etc && echo box-$0'],
        ['here', 'local', 'pwd'],
        ['box', 'docker', 'pwd'],
      ],
    );
    assert.equal(new Set(started.map((record) => record.sessionId)).size, 1);
    assert.equal(started[1]?.target?.container, container);
  });
});

describe("the model's fleet tool (--fleet GROUP) over local targets", () => {
  let fake: FakeLlmServer;
  let home = '';
  before(async () => {
    fake = await FakeLlmServer.start();
    home = mkdtempSync(join(tmpdir(), 'wt-targets-fleet-tool-'));
    mkdirSync(join(home, '.opsmate'));
    writeFileSync(
      join(home, '.opsmate', 'config.yaml'),
      [
        'targets:',
        '  a1: { runtime: local, cwd: /tmp }',
        '  a2: { runtime: local, cwd: /tmp }',
        '  odd: { runtime: local, cwd: /usr }',
        '  gone: { runtime: local, shell: /nonexistent/shell }',
        '  pool: { targets: [a1, a2, odd, gone] }',
        '',
      ].join('\n'),
      { mode: 0o600 },
    );
  });
  after(async () => await fake?.close());

  it("groups the results (odd one first, unreachable apart), audits each target, and any target's output is pageable", async () => {
    fake.enqueue(
      { toolCalls: [{ name: 'FleetCommand', args: { command: 'pwd; seq 1 3' } }] },
      { text: 'Read it.' },
    );
    const run = await runCliIsolated({
      args: ['run', '--fleet', 'pool', 'where are they?'],
      env: { HOME: home, OPSMATE_HOME: join(home, '.opsmate'), OPENAI_BASE_URL: fake.openAiBaseUrl },
    });
    assert.equal(run.exitCode, 0, run.stderr);
    const [result] = toolResultsOf(fake.requests[1]!);
    assert.match(result!, /Fleet pool: 4 targets: 3 ok, 1 unreachable\./);
    const headings = result!.split('\n').filter((line) => /^\d+\. /.test(line));
    assert.deepEqual(headings, [
      '1. Exit code 0 (1 target: odd)',
      '2. Exit code 0 (2 targets: a1, a2)',
      '3. Unreachable (1 target: gone)',
    ]);
    assert.match(
      result!,
      /1\. Exit code 0 \(1 target: odd\)\nStdout:\n<untrusted-data id="\w+" source="stdout">\n\/usr\n1\n2\n3\n/,
    );
    const file = /- odd: (\S+)/.exec(result!)?.[1];
    assert.ok(file, result);
    assert.match(readFileSync(file, 'utf8'), /target: odd\nexit code: 0\n--- stdout ---\n\/usr\n1\n2\n3\n/);
    const started = readFileSync(join(home, '.opsmate', 'audit.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { type: string; target?: Record<string, string>; command?: string })
      .filter((record) => record.type === 'started');
    assert.deepEqual(started.map((record) => record.target?.target).sort(), ['a1', 'a2', 'odd']);
    assert.ok(started.every((record) => record.command === 'pwd; seq 1 3'));
  });

  it('read-only without a terminal: a write on the fleet is not run on any target', async () => {
    const marker = join(home, 'fleet-wrote');
    fake.enqueue(
      { toolCalls: [{ name: 'FleetCommand', args: { command: `touch ${marker}`, pattern: 'pool:!gone' } }] },
      { text: 'Could not.' },
    );
    const run = await runCliIsolated({
      args: ['run', '--fleet', 'pool', '--policy-profile', 'read-only', 'write it'],
      env: { HOME: home, OPSMATE_HOME: join(home, '.opsmate'), OPENAI_BASE_URL: fake.openAiBaseUrl },
    });
    assert.equal(run.exitCode, 0, run.stderr);
    const results = toolResultsOf(fake.requests.at(-1)!);
    assert.match(results.at(-1)!, /1\. Not run \(3 targets: a1, a2, odd\)/);
    assert.throws(() => readFileSync(marker), /ENOENT/);
  });
});
