import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pc from 'picocolors';
import type { AgentEvent } from '../../agent/agent-events.js';
import { notRunResult } from '../../runtime/command-review.js';
import type { RunResult } from '../../runtime/contract.js';
import { AgentRenderer, type RenderMode } from './agent-renderer.js';

const RUN: RunResult = {
  ...notRunResult('uptime', 'x'),
  exitCode: 0,
  durationMs: 25_100,
  cancelled: false,
  notice: undefined as never,
};

/** A thought, one command with output, and the answer, as the agent emits them. */
const TURN: AgentEvent[] = [
  { type: 'step-start', step: 1 },
  { type: 'text-delta', step: 1, text: 'Let me ' },
  { type: 'text-delta', step: 1, text: 'check.' },
  { type: 'tool-call-begin', step: 1, callId: 'a', toolName: 'ShellCommand' },
  {
    type: 'tool-call-start',
    step: 1,
    callId: 'a',
    toolName: 'ShellCommand',
    title: 'uptime',
    input: { command: 'uptime', description: 'load' },
  },
  { type: 'tool-output', callId: 'a', chunk: { stream: 'stdout', data: Buffer.from('up 3 days\n') } },
  {
    type: 'tool-call-end',
    step: 1,
    callId: 'a',
    toolName: 'ShellCommand',
    result: { llmContent: '', display: { kind: 'command', result: RUN } },
  },
  { type: 'step-finish', step: 1, text: 'Let me check.', toolCalls: 1 },
  { type: 'step-start', step: 2 },
  { type: 'text-delta', step: 2, text: 'Up for ' },
  { type: 'text-delta', step: 2, text: '3 days.' },
  { type: 'step-finish', step: 2, text: 'Up for 3 days.', toolCalls: 0 },
];

function render(mode: RenderMode, events: AgentEvent[] = TURN): string {
  let text = '';
  const out = {
    write: (chunk: string | Uint8Array) => ((text += chunk.toString()), true),
  } as NodeJS.WritableStream;
  const renderer = new AgentRenderer({
    out,
    mode,
    colors: pc.createColors(false),
    spinner: { start: () => {}, stop: () => {} },
  });
  for (const event of events) renderer.handle(event);
  renderer.finish();
  return text;
}

const ALL = { thoughts: true, actions: true, toolOutput: true, answer: true, labels: false };

describe('AgentRenderer', () => {
  it('shows everything in order, steps set apart', () => {
    assert.equal(
      render(ALL),
      'Let me check.\n$ uptime  # load\nup 3 days\n[exit 0 · 25.1s]\n\nUp for 3 days.\n',
    );
  });

  it('shows the head of a huge output live and its last lines at the end, saying how much is between', () => {
    const lines = Array.from({ length: 300_000 }, (_, index) => `line ${index + 1}\n`);
    const chunks: AgentEvent[] = [];
    for (let at = 0; at < lines.length; at += 5_000) {
      chunks.push({
        type: 'tool-output',
        callId: 'a',
        chunk: { stream: 'stdout', data: Buffer.from(lines.slice(at, at + 5_000).join('')) },
      });
    }
    const events = TURN.flatMap((event) => (event.type === 'tool-output' ? chunks : [event]));
    const out = render(ALL, events);
    const total = lines.join('').length;
    assert.match(out, /\nline 1\nline 2\n/);
    assert.match(out, /\nline 299999\nline 300000\n\[exit 0/);
    const said = /\[\.\.\. (\d+) bytes not shown here; the last (\d+) bytes:\]\n/.exec(out);
    assert.ok(said, 'no line saying what is not shown');
    // What is shown and what is said to be left out add up to the whole output.
    const shownHead = 32 * 1024;
    assert.equal(shownHead + Number(said[1]) + Number(said[2]), total);
    assert.ok(out.length < 64 * 1024, `printed ${out.length} bytes`);
  });

  it('answer only', () => {
    assert.equal(
      render({ thoughts: false, actions: false, toolOutput: false, answer: true, labels: false }),
      'Up for 3 days.\n',
    );
  });

  it('tool calls only', () => {
    assert.equal(
      render({ thoughts: false, actions: true, toolOutput: true, answer: false, labels: false }),
      '$ uptime  # load\nup 3 days\n[exit 0 · 25.1s]\n',
    );
  });

  it('labels thought, action, observation and answer', () => {
    assert.equal(
      render({ ...ALL, labels: true }),
      'Thought: Let me check.\nAction: $ uptime  # load\nObservation:\nup 3 days\n[exit 0 · 25.1s]\n\nAnswer: Up for 3 days.\n',
    );
  });

  it('shows a command cancelled in review with its reason', () => {
    const events: AgentEvent[] = [
      { type: 'step-start', step: 1 },
      { type: 'tool-call-start', step: 1, callId: 'a', toolName: 'ShellCommand', title: 'rm x', input: {} },
      {
        type: 'tool-call-end',
        step: 1,
        callId: 'a',
        toolName: 'ShellCommand',
        result: {
          llmContent: '',
          display: { kind: 'command', result: notRunResult('rm x', 'the user declined') },
        },
      },
    ];
    assert.equal(render(ALL, events), '$ rm x\n[not run: the user declined]\n');
  });
});

describe('AgentRenderer status while a command runs', () => {
  it('tells the spinner what runs where, since the command started; a failed exit is red', () => {
    const started: string[] = [];
    let text = '';
    const out = {
      write: (chunk: string | Uint8Array) => ((text += chunk.toString()), true),
    } as NodeJS.WritableStream;
    const renderer = new AgentRenderer({
      out,
      mode: ALL,
      colors: pc.createColors(true),
      spinner: { start: (label) => started.push(label), stop: () => {} },
      where: 'ssh (host db-1)',
    });
    const failed: RunResult = { ...RUN, exitCode: 2 };
    const events = TURN.map((event) =>
      event.type === 'tool-call-end'
        ? { ...event, result: { llmContent: '', display: { kind: 'command' as const, result: failed } } }
        : event,
    );
    for (const event of events) renderer.handle(event);
    renderer.finish();
    assert.deepEqual(started.slice(0, 4), [
      'thinking…',
      'writing a command…',
      'running on ssh (host db-1)…',
      'running on ssh (host db-1)…',
    ]);
    assert.ok(text.includes(pc.createColors(true).red('[exit 2 · 25.1s]')), JSON.stringify(text));
  });
});
