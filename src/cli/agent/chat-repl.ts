import { formatRunHeader } from '../render/run-header.js';
import type { Command } from 'commander';
import { createInterface } from 'node:readline';
import { errorMessage, OpsmateError } from '../../errors/opsmate-error.js';
import { SignalAbort } from '../../process/signal-abort.js';
import { exitProcess } from '../../plugins/plugin-guard.js';
import {
  EXIT_INTERRUPTED,
  ignoreBrokenTerminal,
  duplicateSignalFilter,
  STOP_SIGNALS,
  trackRunning,
} from '../abort-on-signals.js';
import type { CliContext } from '../cli-context.js';
import { AgentRenderer, type RenderMode } from '../render/agent-renderer.js';
import { askLine } from '../terminal/ask-line.js';
import { openAgent, type OpenedAgent } from './open-agent.js';

const HELP = `Commands:
  !clear  forget the conversation so far
  !exit   leave (Ctrl-D does too)
  !help   show this message
Ctrl-C while the model works cancels the running command and the turn, not the chat.`;

/**
 * The `chat` loop. On a terminal: a prompt with line editing and history. With piped stdin: each
 * line is one message, echoed, and the chat ends at the end of input. Returns the exit status.
 */
export async function runChat(options: {
  command: Command;
  context: CliContext;
  review: boolean;
  maxSteps: number;
  mode: RenderMode;
}): Promise<number> {
  const { context } = options;
  let turn: AbortController | undefined;
  const startup = new AbortController();
  // Not abortOnSigint(): here Ctrl-C cancels the startup or the running turn, never the chat, and
  // does nothing between turns; only a second one during a turn leaves.
  const isDuplicateSignal = duplicateSignalFilter();
  const onSigint = (): void => {
    if (isDuplicateSignal('SIGINT')) return;
    if (!startup.signal.aborted && turn === undefined) {
      startup.abort(new SignalAbort('SIGINT'));
      return;
    }
    if (turn?.signal.aborted) exitProcess(EXIT_INTERRUPTED);
    turn?.abort(new SignalAbort('SIGINT'));
  };
  // SIGTERM and SIGHUP (the terminal closed) stop the running command as Ctrl-C does, then leave.
  let leaving: 'SIGTERM' | 'SIGHUP' | undefined;
  let wake = (): void => {};
  const stopped = new Promise<{ done: true; value: undefined }>((resolve) => {
    wake = () => resolve({ done: true, value: undefined });
  });
  const onStop = (name: 'SIGTERM' | 'SIGHUP') => (): void => {
    if (isDuplicateSignal(name)) return;
    if (leaving) exitProcess(STOP_SIGNALS[name]);
    leaving = name;
    if (name === 'SIGHUP') ignoreBrokenTerminal();
    if (!startup.signal.aborted) startup.abort(new SignalAbort(name));
    turn?.abort(new SignalAbort(name));
    wake();
  };
  // A crash in plugin code (see plugin-guard.ts) stops the turn and leaves, as SIGTERM does.
  const crash = new AbortController();
  const untrack = trackRunning(crash);
  crash.signal.addEventListener(
    'abort',
    () => {
      if (!startup.signal.aborted) startup.abort(crash.signal.reason);
      turn?.abort(crash.signal.reason);
      wake();
    },
    { once: true },
  );
  const onSigterm = onStop('SIGTERM');
  const onSighup = onStop('SIGHUP');
  const stopListening = (): void => {
    untrack();
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigterm);
    process.off('SIGHUP', onSighup);
  };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigterm);
  process.on('SIGHUP', onSighup);
  let agent: OpenedAgent;
  try {
    agent = await openAgent({
      maxSteps: options.maxSteps,
      command: options.command,
      context,
      review: options.review,
      signal: startup.signal,
    });
  } catch (error) {
    stopListening();
    if (startup.signal.aborted) return leaving ? STOP_SIGNALS[leaving] : EXIT_INTERRUPTED;
    throw error;
  }
  startup.abort(); // startup is over: from now on Ctrl-C only cancels turns.
  const c = agent.colors;
  const lines = agent.interactive ? undefined : pipedLines();
  const history: string[] = [];
  let status = 0;
  try {
    if (agent.interactive) {
      context.stdout.write(
        `${formatRunHeader(
          {
            command: 'chat',
            model: `${agent.model.provider}:${agent.model.modelId}`,
            runtime: agent.runtime.name,
            target: agent.runtime.target(),
            profile: agent.runtime.profile,
            review: options.review ? 'on' : 'off',
          },
          c,
        )}\n` + c.dim('Type !help for commands, Ctrl-D to leave.\n'),
      );
    }
    for (;;) {
      if (leaving || crash.signal.aborted) break;
      let text: string;
      if (lines) {
        const next = await Promise.race([lines.next(), stopped]);
        if (next.done) break;
        text = next.value;
        if (text.trim() !== '') context.stdout.write(`${c.bold('>')} ${text}\n`);
      } else {
        const asked = await Promise.race([
          askLine({
            input: process.stdin,
            output: context.stdout,
            prompt: c.bold('> '),
            history,
          }),
          stopped.then(() => ({ kind: 'eof' as const })),
        ]);
        if (leaving || crash.signal.aborted) break;
        if (asked.kind === 'eof') {
          context.stdout.write('\n');
          break;
        }
        if (asked.kind === 'interrupt') {
          context.stdout.write(c.dim('(type !exit or press Ctrl-D to leave)\n'));
          continue;
        }
        text = asked.text;
      }
      const message = text.trim();
      if (message === '') continue;
      if (message.startsWith('!')) {
        const word = message.toLowerCase();
        if (word === '!exit' || word === '!quit') break;
        if (word === '!clear') {
          agent.session.clear();
          context.stdout.write(c.dim('The conversation was cleared.\n'));
        } else if (word === '!help') {
          context.stdout.write(`${HELP}\n`);
        } else {
          context.stdout.write(`Unknown command ${message}. ${c.dim('Type !help for the list.')}\n`);
        }
        continue;
      }
      turn = new AbortController();
      const renderer = new AgentRenderer({
        out: context.stdout,
        mode: options.mode,
        colors: c,
        spinner: agent.spinner,
      });
      try {
        agent.runtime.setAuditContext({ instruction: message });
        const outcome = await agent.session.send(message, {
          maxSteps: options.maxSteps,
          signal: turn.signal,
          onEvent: (event) => renderer.handle(event),
        });
        renderer.finish();
        if (outcome.aborted) context.stdout.write(c.yellow('(cancelled)\n'));
        else if (outcome.stoppedAtLimit) {
          context.stdout.write(
            c.yellow('(the model was still calling tools at the step limit; ask it to go on)\n'),
          );
        }
      } catch (error) {
        renderer.finish();
        if (!OpsmateError.isInstance(error)) throw error;
        context.stderr.write(`opsmate: error: ${errorMessage(error)}\n`);
        if (error.hint) context.stderr.write(`opsmate: hint: ${error.hint}\n`);
        status = error.exitCode;
        // A script cannot react to the failure: stop there rather than fail every line after it.
        if (lines) break;
      } finally {
        turn = undefined;
      }
    }
  } finally {
    await agent.close();
    stopListening();
  }
  return leaving ? STOP_SIGNALS[leaving] : status;
}

/** Lines of a piped stdin, read as they come. */
function pipedLines(): AsyncIterator<string> {
  const reader = createInterface({ input: process.stdin, terminal: false, crlfDelay: Infinity });
  return reader[Symbol.asyncIterator]();
}
