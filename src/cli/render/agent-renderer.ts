import { renderSeriesChart } from '../../monitoring/series-chart.js';
import { visibleText } from '../terminal/visible-text.js';
import type { AgentEvent } from '../../agent/agent-events.js';
import type { ToolResult } from '../../agent/tools/tool-contract.js';
import type { RunResult } from '../../runtime/contract.js';
import { formatElapsed, type Spinner } from '../terminal/spinner.js';
import type { MarkdownRenderer } from './render-markdown.js';
import type { Colors } from '../terminal/terminal-style.js';

/** Which parts of a turn the user sees. */
export interface RenderMode {
  /** Text the model writes in steps that call tools. */
  thoughts: boolean;
  /** Each tool call: the command, or what the tool does. */
  actions: boolean;
  /** Output of the calls: live command output, exit status, notices. */
  toolOutput: boolean;
  /** The model's final text. */
  answer: boolean;
  /** Prefix parts with Thought:, Action:, Observation:, Answer: (the `solve` layout). */
  labels: boolean;
}

/** Live command output shown per call before the rest is only counted. */
const LIVE_OUTPUT_LIMIT_BYTES = 32 * 1024;
/** What is kept of a command's output past the live limit, to show its last lines at its end. */
const LIVE_TAIL_BYTES = 4 * 1024;

interface StepState {
  step: number;
  buffered: string;
  /** What the step's text turned out to be; undefined while that is unknown. */
  kind: 'thought' | 'answer' | undefined;
  printedLabel: boolean;
  /** Something of this step has been printed. */
  opened: boolean;
}

/**
 * Turns agent events into terminal text. Text streams as it arrives when every kind of text is
 * shown alike; when thoughts and the answer are shown differently, a step's text is held until
 * it is known to be one or the other (the model starts a tool call, or the step ends without one).
 */
export class AgentRenderer {
  readonly #out: NodeJS.WritableStream;
  readonly #mode: RenderMode;
  readonly #c: Colors;
  readonly #spinner: Spinner;
  #step: StepState = { step: 0, buffered: '', kind: undefined, printedLabel: false, opened: false };
  #wroteAnything = false;
  #atLineStart = true;
  #liveBytes = new Map<string, number>();
  /** Past the live limit: the last bytes of a call's output, and how many were not shown. */
  #liveTail = new Map<string, { tail: Buffer; hidden: number }>();
  #observationLabelled = new Set<string>();
  #answer = '';
  readonly #where: string;
  readonly #markdown: MarkdownRenderer | undefined;
  readonly #charts: { columns: number; color: boolean } | undefined;
  /** The command running now, for the status line between bursts of its output. */
  #running: { callId: string; since: number } | undefined;

  constructor(options: {
    out: NodeJS.WritableStream;
    mode: RenderMode;
    colors: Colors;
    spinner: Spinner;
    /** Where commands run, for the status line while one runs: `local (host vm)`. */
    where?: string;
    /**
     * Renders the answer's Markdown (a terminal). The answer is then shown whole once it is
     * known to be the answer, rather than streamed; without it (piped), text is written raw.
     */
    markdown?: MarkdownRenderer;
    /** Draw the charts tools return (a range query's series): on a terminal only, this wide. */
    charts?: { columns: number; color: boolean };
  }) {
    this.#charts = options.charts;
    this.#markdown = options.markdown;
    this.#out = options.out;
    this.#mode = options.mode;
    this.#c = options.colors;
    this.#spinner = options.spinner;
    this.#where = options.where ?? '';
  }

  /** The last answer shown, for callers that need it. */
  get answer(): string {
    return this.#answer;
  }

  handle(event: AgentEvent): void {
    switch (event.type) {
      case 'step-start':
        this.#step = {
          step: event.step,
          buffered: '',
          kind: this.#streamsLive() ? 'thought' : undefined,
          printedLabel: false,
          opened: false,
        };
        this.#wait(event.step === 1 ? 'thinking…' : 'reading the results…');
        return;
      case 'text-delta':
        this.#spinner.stop();
        this.#text(event.text);
        return;
      case 'reasoning-delta':
        return;
      case 'tool-call-begin':
        this.#classify('thought');
        this.#wait('writing a command…');
        return;
      case 'tool-call-start':
        this.#spinner.stop();
        this.#classify('thought');
        this.#toolCallStart(event.toolName, event.title, event.input);
        this.#running = { callId: event.callId, since: Date.now() };
        this.#showRunning();
        return;
      case 'tool-output':
        this.#toolOutput(event.callId, event.chunk.data);
        this.#showRunning();
        return;
      case 'tool-call-end':
        this.#running = undefined;
        this.#spinner.stop();
        this.#toolCallEnd(event.callId, event.result);
        this.#wait('thinking…');
        return;
      case 'tool-call-invalid':
        this.#spinner.stop();
        this.#classify('thought');
        if (this.#mode.actions) {
          const firstLine = visibleText(event.message.split('\n')[0] ?? '');
          this.#line(
            this.#c.yellow(`! ${event.toolName}: invalid call, sent back to the model: ${firstLine}`),
          );
        }
        return;
      case 'step-finish':
        this.#spinner.stop();
        if (event.toolCalls === 0) {
          this.#answer = event.text;
          this.#classify('answer');
        } else {
          this.#classify('thought');
        }
        this.#endLine();
        return;
    }
  }

  /**
   * Call when the request is sent: the SDK says a step started only once the server answers,
   * and the wait before that must not be a blank screen.
   */
  begin(): void {
    this.#wait('thinking…');
  }

  /** Call once the turn is over (or failed): clears the spinner and ends the last line. */
  finish(): void {
    this.#spinner.stop();
    this.#endLine();
  }

  /** The spinner draws over the current line, so it starts only on a fresh one. */
  #wait(text: string): void {
    this.#endLine();
    this.#spinner.start(text);
  }

  /**
   * While a command runs: what runs where, and for how long, on the spinner's line. Only at the
   * start of a line: the spinner clears the line it draws on, which would erase partial output.
   */
  #showRunning(): void {
    if (!this.#running || !this.#atLineStart) return;
    this.#spinner.start(`running${this.#where ? ` on ${this.#where}` : ''}…`, {
      since: this.#running.since,
    });
  }

  #streamsLive(): boolean {
    return !this.#markdown && !this.#mode.labels && this.#mode.thoughts === this.#mode.answer;
  }

  #text(text: string): void {
    if (this.#step.kind === undefined) {
      // Held until it is known to be a thought or the answer: the screen says something is coming.
      if (this.#step.buffered === '' && text.trim() !== '') this.#wait('writing…');
      this.#step.buffered += text;
      return;
    }
    this.#printText(text);
  }

  #classify(kind: 'thought' | 'answer'): void {
    if (this.#step.kind !== undefined) return;
    this.#step.kind = kind;
    const held = this.#step.buffered;
    this.#step.buffered = '';
    if (held !== '') this.#printText(held);
  }

  #printText(text: string): void {
    const kind = this.#step.kind;
    if (kind === 'thought' ? !this.#mode.thoughts : !this.#mode.answer) return;
    if (!this.#step.opened && text.trim() === '') return;
    this.#openStep();
    if (this.#mode.labels && !this.#step.printedLabel) {
      if (text.trim() === '') return;
      this.#step.printedLabel = true;
      this.#endLine();
      const label =
        kind === 'answer' ? this.#c.bold(this.#c.green('Answer:')) : this.#c.bold(this.#c.cyan('Thought:'));
      // Rendered, the answer starts on its own line, under its label.
      this.#write(kind === 'answer' && this.#markdown ? `${label}\n` : `${label} `);
      text = text.replace(/^\s+/, '');
    }
    // The model chose these words: control characters are shown, never obeyed.
    const shown = visibleText(text);
    if (kind === 'answer' && this.#markdown) {
      this.#endLine();
      this.#write(this.#markdown(shown));
      return;
    }
    this.#write(kind === 'thought' && this.#markdown ? this.#c.dim(shown) : shown);
  }

  #toolCallStart(toolName: string, title: string, input: unknown): void {
    if (!this.#mode.actions) return;
    this.#openStep();
    this.#endLine();
    const description = (input as { description?: unknown }).description;
    const label = this.#mode.labels ? `${this.#c.bold(this.#c.magenta('Action:'))} ` : '';
    // The model chose these words: shown, never obeyed by the terminal.
    const shown = visibleText(title);
    const head =
      toolName === 'ShellCommand' ? this.#c.bold(`$ ${shown}`) : `${this.#c.bold(toolName)} ${shown}`;
    const why =
      typeof description === 'string' && description.trim() !== ''
        ? this.#c.dim(`  # ${visibleText(description.trim())}`)
        : '';
    this.#line(`${label}${head}${why}`);
  }

  #toolOutput(callId: string, data: Uint8Array): void {
    if (!this.#mode.toolOutput) return;
    this.#labelObservation(callId);
    const shown = this.#liveBytes.get(callId) ?? 0;
    const room = Math.max(0, LIVE_OUTPUT_LIMIT_BYTES - shown);
    if (room > 0) this.#writeBytes(data.length > room ? data.subarray(0, room) : data);
    this.#liveBytes.set(callId, shown + Math.min(room, data.length));
    if (data.length <= room) return;
    // The rest is not shown live (a terminal cannot scroll back through 300 000 lines), but its
    // last lines are, when the command ends.
    const rest = data.subarray(room);
    const kept = this.#liveTail.get(callId) ?? { tail: Buffer.alloc(0), hidden: 0 };
    const tail = Buffer.concat([kept.tail, rest]);
    this.#liveTail.set(callId, {
      tail: tail.length > LIVE_TAIL_BYTES ? tail.subarray(tail.length - LIVE_TAIL_BYTES) : tail,
      hidden: kept.hidden + rest.length,
    });
  }

  /** The last lines of a call's output that went past the live limit, after a line saying so. */
  #showTail(callId: string): void {
    const kept = this.#liveTail.get(callId);
    if (!kept) return;
    this.#liveTail.delete(callId);
    // Start at a line boundary, unless the tail is one long line.
    const newline = kept.tail.indexOf(10);
    const from = newline >= 0 && newline < kept.tail.length - 1 ? newline + 1 : 0;
    const tail = kept.tail.subarray(from);
    this.#endLine();
    this.#line(
      this.#c.dim(`[... ${kept.hidden - tail.length} bytes not shown here; the last ${tail.length} bytes:]`),
    );
    this.#writeBytes(tail);
    this.#endLine();
  }

  #labelObservation(callId: string): void {
    if (!this.#mode.labels || this.#observationLabelled.has(callId)) return;
    this.#observationLabelled.add(callId);
    this.#endLine();
    this.#line(this.#c.bold(this.#c.blue('Observation:')));
  }

  #toolCallEnd(callId: string, result: ToolResult): void {
    if (!this.#mode.toolOutput && !this.#mode.actions) return;
    if (this.#mode.toolOutput) this.#showTail(callId);
    this.#endLine();
    if (result.display.kind === 'text') {
      if (this.#mode.toolOutput) {
        this.#labelObservation(callId);
        this.#line(this.#c.dim(result.display.text));
        if (result.display.chart && this.#charts)
          this.#write(renderSeriesChart(result.display.chart, this.#charts));
      }
      return;
    }
    if (this.#mode.toolOutput) this.#labelObservation(callId);
    if (result.display.editedFrom !== undefined) {
      this.#line(
        this.#c.dim(`(edited in review; the model proposed: ${visibleText(result.display.editedFrom)})`),
      );
    }
    const status = this.#status(result.display.result);
    const failed = result.display.result.exitCode !== 0;
    this.#line(failed ? this.#c.red(status) : this.#c.dim(status));
  }

  /** `[exit 0 · 25.1s]`, `[exit 1 · 0.2s; output cut for the model; ...]`. */
  #status(result: RunResult): string {
    const parts: string[] = [];
    if (result.exitCode !== null) parts.push(`exit ${result.exitCode} · ${formatElapsed(result.durationMs)}`);
    if (result.notice) parts.push(result.notice);
    else if (result.exitCode === null) parts.push('no exit code');
    if (result.truncated) {
      const files = Object.values(result.spillFiles);
      parts.push(`output cut for the model${files.length > 0 ? `; full output in ${files.join(', ')}` : ''}`);
    }
    return `[${parts.join('; ')}]`;
  }

  /** Steps are set apart by a blank line. */
  #openStep(): void {
    if (this.#step.opened) return;
    this.#step.opened = true;
    if (!this.#wroteAnything) return;
    this.#endLine();
    this.#write('\n');
  }

  #line(text: string): void {
    this.#endLine();
    this.#write(`${text}\n`);
  }

  #endLine(): void {
    if (!this.#atLineStart) this.#write('\n');
  }

  #write(text: string): void {
    if (text === '') return;
    this.#spinner.stop();
    this.#out.write(text);
    this.#wroteAnything = true;
    this.#atLineStart = text.endsWith('\n');
  }

  #writeBytes(data: Uint8Array): void {
    if (data.length === 0) return;
    this.#spinner.stop();
    this.#out.write(data);
    this.#wroteAnything = true;
    this.#atLineStart = data[data.length - 1] === 0x0a;
  }
}
