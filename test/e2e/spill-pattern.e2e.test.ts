// A pattern the model gives ReadSpilledOutput is untrusted input (a prompt injection in the
// target's output can choose it): it must not be able to hang opsmate (red-team finding 37).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FakeLlmServer, toolResultsOf } from '../../test-support/fake-llm/index.js';
import { runCliIsolated } from '../../test-support/run-cli.js';

describe('ReadSpilledOutput with a catastrophic pattern, through the CLI', () => {
  let fake: FakeLlmServer;
  before(async () => {
    fake = await FakeLlmServer.start();
  });
  after(async () => {
    await fake.close();
  });

  it('answers at once, correctly, and the agent goes on', async () => {
    fake.enqueue(
      {
        toolCalls: [
          {
            name: 'ShellCommand',
            args: {
              command: "seq 1 20000; printf 'a%.0s' $(seq 1 34); echo b; printf 'a%.0s' $(seq 1 40); echo",
            },
          },
        ],
      },
      (request) => {
        const [result] = toolResultsOf(request);
        const file = /stdout: (\S+?\.stdout)/.exec(result ?? '')?.[1] ?? 'missing';
        return { toolCalls: [{ name: 'ReadSpilledOutput', args: { file, pattern: '^(a+)+$' } }] };
      },
      { text: 'Searched.' },
    );
    const run = await runCliIsolated({
      args: ['solve', '-l', '2000', 'find the a line'],
      env: { OPENAI_BASE_URL: fake.openAiBaseUrl },
    });
    assert.equal(run.exitCode, 0, run.stderr);
    assert.match(run.stdout, /Searched\./);
    const [, read] = toolResultsOf(fake.requests[2]!);
    assert.match(read!, /1 line\(s\) matching/);
    assert.match(read!, /20002: a{40}\n/);
  });
});
