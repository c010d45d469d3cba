// What one agent step costs on top of its model call and its command (issue 15): an instant
// model (test-support/fake-llm, speaking OpenAI's streaming wire protocol on loopback) asks for
// ShellCommand `true` on every step of a turn; the agent loop runs in this process the way
// `opsmate run` builds it (the real OpenAI provider, the local runtime behind the guard: policy,
// masking, audit log in `written` mode). Against it, in the same run and interleaved (A B, then
// B A), the limit: one raw `fetch` of the same fake endpoint with its stream read to the end,
// then `true` run in a bare bash over a pipe, STEPS times.
// Two more rows say where the step's time goes: the same turn with an instant stand-in runtime
// (test-support/fake-runtime.ts: the agent loop and the SDK alone), and the guarded local round
// trip of `true` by itself (the engine and the guard).
// Run with `npm run build && node --import tsx bench/agent-step.bench.ts` (BENCH_ROUNDS, BENCH_STEPS).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentSession } from '../src/agent/agent-loop.js';
import { resolveModel } from '../src/agent/providers/resolve-model.js';
import { shellCommandTool } from '../src/agent/tools/shell-command/shell-command-tool.js';
import { localRuntime } from '../src/runtimes/local/local-runtime.js';
import { SpillFiles } from '../src/agent/tools/spill-files.js';
import type { ToolContext } from '../src/agent/tools/tool-contract.js';
import { FakeLlmServer, type FakeMessage } from '../test-support/fake-llm/index.js';
import { FakeRuntime } from '../test-support/fake-runtime.js';
import { guardedToolSession } from '../test-support/guarded-tool-session.js';
import { machineLine, median, report } from './bench-support.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const STEPS = Number(process.env.BENCH_STEPS ?? 40);
const spillDir = mkdtempSync(join(tmpdir(), 'opsmate-agent-bench-'));

const CALL_TRUE: FakeMessage = { toolCalls: [{ name: 'ShellCommand', args: { command: 'true' } }] };

const fake = await FakeLlmServer.start();
const model = await resolveModel('gpt-4o', { OPENAI_BASE_URL: fake.openAiBaseUrl, OPENAI_API_KEY: 'bench' });
const runtime = localRuntime.create({ shell: '/bin/bash', env: {} }, { spillDir, outputLimitBytes: 65536 });
await runtime.connect();
const tools = guardedToolSession({ runtime, profile: 'read-only' });
await tools.guarded.connect();

const instant = new FakeRuntime();
instant.respond = () => ({ stdout: '' });
const instantContext: ToolContext = {
  runtime: instant,
  spillFiles: new SpillFiles(),
  maxOutputLength: 10_000,
};

/** The request bodies of the last agent turn: the history grows with every step. */
let agentBodies: string[] = [];

/** One turn of STEPS steps: STEPS - 1 calls of `true`, then an answer. Milliseconds per step. */
async function agentTurn(toolContext: ToolContext = tools.context): Promise<number> {
  fake.reset();
  for (let step = 1; step < STEPS; step++) fake.enqueue(CALL_TRUE);
  fake.enqueue({ text: 'done' });
  const session = new AgentSession({
    model,
    system: 'You are a benchmark.',
    tools: [shellCommandTool],
    toolContext,
    maxRetries: 0,
  });
  const started = performance.now();
  const outcome = await session.send('go', { maxSteps: STEPS + 1 });
  const elapsed = performance.now() - started;
  if (outcome.steps !== STEPS || outcome.text !== 'done')
    throw new Error(`turn ended: ${JSON.stringify(outcome)}`);
  agentBodies = fake.requests.map((request) => JSON.stringify(request.body));
  return elapsed / STEPS;
}

/** A bare bash reading commands from a pipe; `true`, then a marker line, per call. */
const bash = spawn('/bin/bash', [], { stdio: ['pipe', 'pipe', 'inherit'] });
let pending: (() => void) | undefined;
let buffered = '';
bash.stdout.setEncoding('utf8');
bash.stdout.on('data', (text: string) => {
  buffered += text;
  if (buffered.includes('__done\n')) {
    buffered = '';
    pending?.();
  }
});
function rawTrue(): Promise<void> {
  return new Promise((resolve) => {
    pending = resolve;
    bash.stdin.write('true; echo __done\n');
  });
}

/**
 * The same number of raw calls of the fake (a tool-call reply each, streamed) plus raw `true`s:
 * with a one-message body (the limit), or `replay`ing the agent's own request bodies, so
 * that both sides move the same bytes (and the in-process fake parses the same JSON).
 */
async function rawSteps(options: { replay?: boolean } = {}): Promise<number> {
  fake.reset();
  for (let step = 0; step < STEPS; step++) fake.enqueue(CALL_TRUE);
  const minimal = JSON.stringify({
    model: 'gpt-4o',
    stream: true,
    messages: [{ role: 'user', content: 'go' }],
  });
  const started = performance.now();
  for (let step = 0; step < STEPS; step++) {
    const response = await fetch(`${fake.openAiBaseUrl}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer bench' },
      body: options.replay ? (agentBodies[step] ?? minimal) : minimal,
    });
    const text = await response.text();
    if (!text.includes('ShellCommand')) throw new Error(`unexpected reply: ${text.slice(0, 200)}`);
    await rawTrue();
  }
  return (performance.now() - started) / STEPS;
}

/** The guarded local runtime's round trip of `true`, as ShellCommand makes it (ms, median). */
async function guardedTrue(): Promise<number> {
  const samples: number[] = [];
  for (let index = 0; index < STEPS; index++) {
    const started = performance.now();
    await tools.guarded.run('true');
    samples.push(performance.now() - started);
  }
  return median(samples);
}

console.log(machineLine());
console.log(`rounds: ${ROUNDS} (A B, then B A), ${STEPS} steps per turn, after one warm-up round`);
try {
  await agentTurn();
  await rawSteps();
  const agent: number[] = [];
  const raw: number[] = [];
  const ratios: number[] = [];
  const agentAlone: number[] = [];
  const replayed: number[] = [];
  const roundTrips: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    agentAlone.push(await agentTurn(instantContext));
    roundTrips.push(await guardedTrue());
    replayed.push(await rawSteps({ replay: true }));
    let a: number;
    let b: number;
    if (round % 2 === 0) {
      a = await agentTurn();
      b = await rawSteps();
    } else {
      b = await rawSteps();
      a = await agentTurn();
    }
    agent.push(a);
    raw.push(b);
    ratios.push(a / b);
  }
  const span = (values: number[]) => `${Math.min(...values).toFixed(2)}-${Math.max(...values).toFixed(2)}`;
  report('agent step, instant model, `true`', `${median(agent).toFixed(2)} ms (${span(agent)})`);
  report('raw fetch + stream read + raw `true`', `${median(raw).toFixed(2)} ms (${span(raw)})`);
  report(
    '  the same, replaying the agent request bodies',
    `${median(replayed).toFixed(2)} ms (${span(replayed)})`,
  );
  report(
    '  of it: agent step, instant stand-in runtime',
    `${median(agentAlone).toFixed(2)} ms (${span(agentAlone)})`,
  );
  report(
    '  of it: guarded local round trip of `true`',
    `${median(roundTrips).toFixed(2)} ms (${span(roundTrips)})`,
  );
  report(
    'agent step / raw (rounds)',
    `${(median(agent) / median(raw)).toFixed(2)}x (${span(ratios)}x)`,
    '<= 3x',
  );
} finally {
  bash.kill();
  await tools.close();
  await fake.close();
  rmSync(spillDir, { recursive: true, force: true });
}
