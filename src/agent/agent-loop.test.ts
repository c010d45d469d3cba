import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FakeLlmServer, toolResultsOf, userTextsOf } from '../../test-support/fake-llm/index.js';
import { FakeRuntime } from '../../test-support/fake-runtime.js';
import type { AgentEvent } from './agent-events.js';
import { AgentSession } from './agent-loop.js';
import { resolveModel } from './providers/resolve-model.js';
import { BUILTIN_TOOLS } from './tools/builtin-tools.js';
import { SpillFiles } from './tools/spill-files.js';

describe('AgentSession (real OpenAI provider against the fake server)', () => {
  let fake: FakeLlmServer;
  before(async () => {
    fake = await FakeLlmServer.start();
  });
  after(async () => {
    await fake.close();
  });

  async function session(runtime: FakeRuntime): Promise<AgentSession> {
    const model = await resolveModel('gpt-4o', { OPENAI_BASE_URL: fake.openAiBaseUrl });
    return new AgentSession({
      model,
      system: 'You are a test.',
      tools: BUILTIN_TOOLS,
      toolContext: { runtime, spillFiles: new SpillFiles(), maxOutputLength: 1000 },
      maxRetries: 0,
    });
  }

  it('runs parallel tool calls one at a time, in order, and emits events in order', async () => {
    fake.requests.length = 0;
    const runtime = new FakeRuntime();
    runtime.respond = (command) => ({ stdout: `${command}-out\n` });
    fake.enqueue(
      {
        toolCalls: [
          { name: 'ShellCommand', args: { command: 'one' } },
          { name: 'ShellCommand', args: { command: 'two' } },
        ],
      },
      { text: 'done' },
    );
    const events: AgentEvent[] = [];
    const outcome = await (
      await session(runtime)
    ).send('go', { maxSteps: 5, onEvent: (event) => events.push(event) });
    const { usage, ...rest } = outcome;
    assert.deepEqual(rest, { text: 'done', steps: 2, aborted: false, stoppedAtLimit: false });
    // Two calls at the fake's 10 input and 5 output tokens each.
    assert.deepEqual([usage.inputTokens, usage.outputTokens, usage.totalTokens], [20, 10, 30]);
    assert.deepEqual(runtime.commands, ['one', 'two']);
    const order = events
      .filter((event) => event.type === 'tool-call-start' || event.type === 'tool-call-end')
      .map((event) => `${event.type}:${(event as { callId: string }).callId}`);
    assert.deepEqual(order, [
      'tool-call-start:call_1_0',
      'tool-call-end:call_1_0',
      'tool-call-start:call_1_1',
      'tool-call-end:call_1_1',
    ]);
    assert.deepEqual(
      toolResultsOf(fake.requests[1]!).map((text) => /Command: (\w+)/.exec(text)?.[1]),
      ['one', 'two'],
    );
  });

  it('cancels the running command on abort and keeps the interrupted turn in the history', async () => {
    fake.requests.length = 0;
    const runtime = new FakeRuntime();
    const abort = new AbortController();
    let sawSignal = false;
    const realRun = runtime.run.bind(runtime);
    runtime.run = async (command, options = {}) => {
      abort.abort();
      sawSignal = options.signal?.aborted === true;
      return realRun(command, options);
    };
    fake.enqueue(
      { text: 'Trying.', toolCalls: [{ name: 'ShellCommand', args: { command: 'sleep 100' } }] },
      { text: 'next turn' },
    );
    const agent = await session(runtime);
    const outcome = await agent.send('hang', { maxSteps: 5, signal: abort.signal });
    assert.equal(outcome.aborted, true);
    assert.equal(sawSignal, true);
    await agent.send('and now?', { maxSteps: 5 });
    assert.deepEqual(userTextsOf(fake.requests.at(-1)!), ['hang', 'and now?']);
  });
});
