import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import {
  FakeLlmServer,
  systemPromptOf,
  toolNamesOf,
  toolResultsOf,
  userTextsOf,
} from '../../test-support/fake-llm/index.js';
import { runCliIsolated, type RunCliOptions } from '../../test-support/run-cli.js';

const ANSWER_ONLY_TURNS = [
  {
    text: 'Let me look.',
    toolCalls: [{ name: 'ShellCommand', args: { description: 'say hi', command: 'echo tool-said-hi' } }],
  },
  { text: 'The tool said hi.' },
];

describe('agent CLI end to end (OpenAI protocol)', () => {
  let fake: FakeLlmServer;
  const cli = (args: string[], extra: Partial<RunCliOptions> = {}) =>
    runCliIsolated({ args, ...extra, env: { OPENAI_BASE_URL: fake.openAiBaseUrl, ...extra.env } });

  before(async () => {
    fake = await FakeLlmServer.start();
  });
  after(async () => {
    await fake.close();
  });
  beforeEach(() => {
    fake.requests.length = 0;
    assert.equal(fake.pending, 0, 'a previous test left scripted replies unused');
  });

  it('run prints tool calls with their output, then the observation; the model gets its tools', async () => {
    fake.enqueue(...ANSWER_ONLY_TURNS);
    const run = await cli(['run', 'say hi']);
    assert.equal(run.exitCode, 0, run.stderr);
    assert.match(
      run.stdout,
      /Let me look\.\n\n?\$ echo tool-said-hi {2}# say hi\ntool-said-hi\n\[exit 0 · \d+\.\ds\]\n\nThe tool said hi\.\n$/,
    );
    assert.deepEqual(toolNamesOf(fake.requests[0]!), [
      'ShellCommand',
      'ReadSpilledOutput',
      'FileEditor',
      'FetchUrl',
    ]);
    assert.equal(fake.requests[0]!.stream, true);
    assert.equal(fake.requests[0]!.path, '/v1/chat/completions');
    // The second call is the last one `run` allows: the model must answer, not call tools.
    assert.equal(fake.requests[1]!.body.tool_choice, 'none');
  });

  it('run -nt prints only the observation; piped, no header line either', async () => {
    fake.enqueue(...ANSWER_ONLY_TURNS);
    const run = await cli(['run', '-nt', 'say hi']);
    assert.equal(run.exitCode, 0, run.stderr);
    assert.equal(run.stdout, 'The tool said hi.\n');
    // The one-line header is for a terminal (agent-terminal.e2e.test.ts); a script's stderr stays its errors.
    assert.doesNotMatch(run.stderr, /opsmate run ·/);
  });

  it('run -no runs the tool calls and prints them, without asking the model for an observation', async () => {
    fake.enqueue(ANSWER_ONLY_TURNS[0]!);
    const run = await cli(['run', '-no', 'say hi']);
    assert.equal(run.exitCode, 0, run.stderr);
    assert.match(run.stdout, /^\$ echo tool-said-hi {2}# say hi\ntool-said-hi\n\[exit 0 · \d+\.\ds\]\n$/);
    // As in Opsmate: one model call; its tools ran; no second call for the observation.
    assert.equal(fake.requests.length, 1);
    assert.notEqual(fake.requests[0]!.body.tool_choice, 'none');
  });

  it('solve -a prints only the answer; - reads the instruction from stdin', async () => {
    fake.enqueue(...ANSWER_ONLY_TURNS);
    const run = await cli(['solve', '-a', '-'], { input: 'what does the tool say?\n' });
    assert.equal(run.exitCode, 0, run.stderr);
    assert.equal(run.stdout, 'The tool said hi.\n');
    assert.deepEqual(userTextsOf(fake.requests[0]!), ['what does the tool say?']);
  });

  it('solve -nt shows thought, action and answer but not the output', async () => {
    fake.enqueue(...ANSWER_ONLY_TURNS);
    const run = await cli(['solve', '-nt', 'say hi']);
    assert.equal(run.exitCode, 0, run.stderr);
    assert.doesNotMatch(run.stdout, /^tool-said-hi$/m);
    assert.match(run.stdout, /Thought: Let me look\.\nAction: \$ echo tool-said-hi/);
    assert.match(run.stdout, /Answer: The tool said hi\.\n$/);
  });

  it('solve stops at --max-iter and says the model never answered', async () => {
    const call = { toolCalls: [{ name: 'ShellCommand', args: { command: 'true' } }] };
    fake.enqueue(call, call, call);
    const run = await cli(['solve', '-i', '2', 'loop forever']);
    assert.equal(run.exitCode, 3, 'the step limit has its own exit status');
    assert.match(
      run.stderr,
      /^opsmate: error: no answer after 3 model calls: the model was still calling tools\nopsmate: hint: raise --max-iter\n/m,
    );
    assert.equal(fake.requests[2]!.body.tool_choice, 'none');
  });

  it('sends invalid tool arguments back to the model instead of failing', async () => {
    fake.enqueue(
      {
        toolCalls: [
          { name: 'ShellCommand', args: { command: 42 } },
          { name: 'ShellCommand', args: '{not json' },
        ],
      },
      { toolCalls: [{ name: 'ShellCommand', args: { command: 'echo fixed' } }] },
      { text: 'Fixed it.' },
    );
    const run = await cli(['solve', 'go']);
    assert.equal(run.exitCode, 0, run.stderr);
    const [typed, unparsable] = toolResultsOf(fake.requests[1]!);
    assert.match(typed!, /Invalid arguments for ShellCommand; nothing was run/);
    assert.match(typed!, /command: Invalid input: expected string, received number/);
    assert.match(unparsable!, /JSON/);
    assert.match(run.stdout, /invalid call, sent back to the model/);
    assert.match(run.stdout, /Answer: Fixed it\./);
  });

  it('-s replaces the instructions but keeps the target facts; -c k8s picks that context', async () => {
    fake.enqueue({ text: 'ok' }, { text: 'ok' });
    assert.equal((await cli(['run', '-s', 'You are a test prompt.', 'hi'])).exitCode, 0);
    const replaced = systemPromptOf(fake.requests[0]!);
    assert.match(replaced, /^You are a test prompt\./);
    assert.match(replaced, /OS info:/);
    assert.equal((await cli(['run', '-c', 'k8s', 'hi'])).exitCode, 0);
    assert.match(systemPromptOf(fake.requests[1]!), /kubectl/);
  });

  it('--tools limits the tools; an unknown tool or context is a usage error', async () => {
    fake.enqueue({ text: 'ok' });
    assert.equal((await cli(['run', '--tools', 'ShellCommand', 'hi'])).exitCode, 0);
    assert.deepEqual(toolNamesOf(fake.requests[0]!), ['ShellCommand']);
    const badTool = await cli(['run', '--tools', 'Nope', 'hi']);
    assert.equal(badTool.exitCode, 2);
    assert.match(badTool.stderr, /unknown tool "Nope"/);
    const badContext = await cli(['run', '-c', 'nope', 'hi']);
    assert.equal(badContext.exitCode, 2);
    assert.match(badContext.stderr, /unknown context "nope"/);
  });

  it('--review without a terminal cancels every command and tells the model why', async () => {
    fake.enqueue(
      { toolCalls: [{ name: 'ShellCommand', args: { command: 'touch /tmp/opsmate-review-must-not-run' } }] },
      { text: 'I could not run it.' },
    );
    const run = await cli(['run', '-r', 'make a file']);
    assert.equal(run.exitCode, 0, run.stderr);
    const [result] = toolResultsOf(fake.requests[1]!);
    assert.match(result!, /The command was NOT run: .*no terminal to ask/);
    assert.match(run.stdout, /not run: needs approval .*but there is no terminal to ask/);
  });

  it('chat with piped stdin: one message per line, history kept, !clear forgets it', async () => {
    fake.enqueue({ text: 'first answer' }, { text: 'second answer' }, { text: 'third answer' });
    const run = await cli(['chat'], {
      input: 'first question\nsecond question\n!clear\nthird question\n!help\n',
    });
    assert.equal(run.exitCode, 0, run.stderr);
    assert.deepEqual(userTextsOf(fake.requests[1]!), ['first question', 'second question']);
    assert.deepEqual(userTextsOf(fake.requests[2]!), ['third question']);
    assert.match(run.stdout, /> first question\nfirst answer\n> second question\nsecond answer\n/);
    assert.match(run.stdout, /conversation was cleared/);
    assert.match(run.stdout, /\/exit +leave/);
  });

  it('chat keeps tool calls and their results in the history', async () => {
    fake.enqueue(...ANSWER_ONLY_TURNS, { text: 'still hi' });
    const run = await cli(['chat'], { input: 'say hi\nagain?\n' });
    assert.equal(run.exitCode, 0, run.stderr);
    const results = toolResultsOf(fake.requests[2]!);
    assert.equal(results.length, 1);
    assert.match(results[0]!, /tool-said-hi/);
  });

  it('retries a 429 and then succeeds', async () => {
    fake.enqueue(
      { error: { status: 429, message: 'slow down', headers: { 'retry-after-ms': '10' } } },
      { text: 'after the wait' },
    );
    const run = await cli(['run', 'hi']);
    assert.equal(run.exitCode, 0, run.stderr);
    assert.equal(fake.requests.length, 2);
    assert.match(run.stdout, /after the wait/);
  });

  it('gives up on repeated 5xx with one clear line', async () => {
    const failure = { error: { status: 503, message: 'overloaded', headers: { 'retry-after-ms': '10' } } };
    fake.enqueue(failure, failure, failure);
    const run = await cli(['run', 'hi']);
    assert.equal(run.exitCode, 1);
    assert.equal(fake.requests.length, 3);
    assert.match(
      run.stderr,
      /^opsmate: error: the model server failed \(HTTP 503\) \(gave up after 3 attempts\): overloaded\n/,
    );
    assert.doesNotMatch(run.stderr, /\n\s+at /, 'no stack trace');
  });

  it('a 404 for the model says the model was not found', async () => {
    fake.enqueue({ error: { status: 404, message: 'The model `nope` does not exist' } });
    const run = await cli(['run', '-m', 'openai:nope', 'hi']);
    assert.equal(run.exitCode, 1);
    assert.match(run.stderr, /model openai:nope was not found at .*HTTP 404/);
  });

  it('a bare model name no provider knows is a usage error before anything runs', async () => {
    const run = await runCliIsolated({ args: ['run', '-m', 'mystery-model', 'hi'] });
    assert.equal(run.exitCode, 2);
    assert.match(run.stderr, /unknown model "mystery-model"/);
    assert.match(run.stderr, /hint: .*provider/);
  });

  it('a refused connection names the URL, without retrying or a stack trace', async () => {
    const port = await closedPort();
    const run = await runCliIsolated({
      args: ['run', 'hi'],
      env: { OPENAI_BASE_URL: `http://127.0.0.1:${port}/v1` },
    });
    assert.equal(run.exitCode, 1);
    assert.match(
      run.stderr,
      new RegExp(`cannot connect to http://127\\.0\\.0\\.1:${port}/v1/chat/completions: connection refused`),
    );
    assert.doesNotMatch(run.stderr, /\n\s+at /);
  });
});

describe('agent CLI end to end: keys and the Anthropic protocol', () => {
  let fake: FakeLlmServer;
  before(async () => {
    fake = await FakeLlmServer.start({ apiKey: 'right-key' });
  });
  after(async () => {
    await fake.close();
  });
  beforeEach(() => {
    fake.requests.length = 0;
  });

  for (const command of ['run', 'chat']) {
    it(`${command} without any key or local server says which env var to set and how to use a local model`, async () => {
      const run = await runCliIsolated({ args: command === 'run' ? ['run', 'hi'] : ['chat'] });
      assert.equal(run.exitCode, 1);
      assert.match(run.stderr, /^opsmate: error: OPENAI_API_KEY is not set/);
      assert.match(run.stderr, /OPENAI_BASE_URL=/);
      assert.match(run.stderr, /OLLAMA_HOST=/);
    });
  }

  it('a refused API key (401) is one line naming the env var', async () => {
    const run = await runCliIsolated({
      args: ['run', 'hi'],
      env: { OPENAI_BASE_URL: fake.openAiBaseUrl, OPENAI_API_KEY: 'wrong-key' },
    });
    assert.equal(run.exitCode, 1);
    assert.match(run.stderr, /refused the API key \(HTTP 401\)/);
    assert.match(run.stderr, /hint: check OPENAI_API_KEY/);
    assert.equal(fake.requests.length, 1, '401 is not retried');
  });

  for (const suffix of ['', '/v1']) {
    it(`Anthropic: streams a tool loop with ANTHROPIC_BASE_URL ${suffix ? 'ending in /v1' : 'without /v1'}`, async () => {
      fake.enqueue(
        { text: 'Checking.', toolCalls: [{ name: 'ShellCommand', args: { command: 'echo from-claude' } }] },
        { text: 'Claude saw it.' },
      );
      const run = await runCliIsolated({
        args: ['run', '-m', 'claude-3-7-sonnet-20250219', 'hi'],
        env: { ANTHROPIC_BASE_URL: `${fake.url}${suffix}`, ANTHROPIC_API_KEY: 'right-key' },
      });
      assert.equal(run.exitCode, 0, run.stderr);
      assert.match(run.stdout, /from-claude\n\[exit 0 · \d+\.\ds\]\n\nClaude saw it\.\n$/);
      assert.equal(fake.requests[0]!.path, '/v1/messages');
      assert.equal(fake.requests[0]!.headers['x-api-key'], 'right-key');
      assert.equal(fake.requests[0]!.stream, true);
      assert.match(systemPromptOf(fake.requests[0]!), /OS info:/);
      assert.match(toolResultsOf(fake.requests[1]!)[0]!, /Exit code: 0[\s\S]*from-claude/);
    });
  }

  it('Ollama: OLLAMA_HOST given as host:port reaches /api/chat, no key needed', async () => {
    const ollama = await FakeLlmServer.start();
    try {
      ollama.enqueue(
        { toolCalls: [{ name: 'ShellCommand', args: { command: 'echo from-ollama' } }] },
        { text: 'Ollama saw it.' },
      );
      const run = await runCliIsolated({
        args: ['run', '-m', 'ollama:llama3.2', 'hi'],
        env: { OLLAMA_HOST: ollama.url.replace('http://', '') },
      });
      assert.equal(run.exitCode, 0, run.stderr);
      assert.match(run.stdout, /from-ollama\n\[exit 0 · \d+\.\ds\]\n\nOllama saw it\.\n$/);
      assert.equal(ollama.requests[0]!.path, '/api/chat');
      assert.equal(ollama.requests[0]!.body.model, 'llama3.2');
      assert.match(systemPromptOf(ollama.requests[0]!), /OS info:/);
      assert.match(toolResultsOf(ollama.requests[1]!)[0]!, /from-ollama/);
    } finally {
      await ollama.close();
    }
  });

  it('Anthropic without a key names ANTHROPIC_API_KEY', async () => {
    const run = await runCliIsolated({ args: ['run', '-m', 'claude-sonnet-4-5', 'hi'] });
    assert.equal(run.exitCode, 1);
    assert.match(run.stderr, /ANTHROPIC_API_KEY is not set/);
  });
});

describe('listing commands', () => {
  it('list-tools, list-contexts and list-models print tables', async () => {
    const tools = await runCliIsolated({ args: ['list-tools'] });
    assert.match(tools.stdout, /ShellCommand/);
    assert.match(tools.stdout, /ReadSpilledOutput/);
    const contexts = await runCliIsolated({ args: ['list-contexts'] });
    assert.match(contexts.stdout, /^cli\s/m);
    const models = await runCliIsolated({ args: ['list-models'] });
    assert.match(models.stdout, /openai\s+gpt-4o \*\s+no \(set OPENAI_API_KEY\)/);
    assert.match(models.stdout, /^\* default \(without -m\): gpt-4o \(no provider is configured\)$/m);
    assert.match(models.stdout, /anthropic\s+claude-/);
  });
});

/** A loopback port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
