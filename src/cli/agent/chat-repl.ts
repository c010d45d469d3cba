import { formatRunHeader, formatWhere } from '../render/run-header.js';
import type { Command } from 'commander';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { homeDir } from '../../config/settings.js';
import { errorMessage, OpsmateError } from '../../errors/opsmate-error.js';
import type { SessionRecord } from '../../sessions/session-record.js';
import { stopReasonOf } from '../../sessions/turn-recorder.js';
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
import { formatReferences } from './session-knowledge.js';
import { askLine } from '../terminal/ask-line.js';
import { colorsFor } from '../terminal/terminal-style.js';
import { openAgent, type OpenedAgent, sessionWhere } from './open-agent.js';
import { parseChatLine } from './chat-commands.js';
import { ChatHistory } from './chat-history.js';
import { terminalMarkdown } from './terminal-markdown.js';
import { SessionRecorder } from './session-recorder.js';
import { usageLine } from './turn-report.js';

/** The prompt's history, in opsmate's home. */
const CHAT_HISTORY_FILE = 'chat-history';

/**
 * The `chat` loop. On a terminal: a prompt with line editing and history. With piped stdin: each
 * line is one message, echoed, and the chat ends at the end of input. Returns the exit status.
 */
export async function runChat(options: {
  command: Command;
  context: CliContext;
  review: boolean;
  /** `-y/--yes`. */
  yes: boolean;
  maxSteps: number;
  toolCallsPerStep?: number | undefined;
  mode: RenderMode;
  /** A saved session to go on with (`--resume ID`, `--continue`). */
  resume?: SessionRecord | undefined;
}): Promise<number> {
  const { context } = options;
  let turn: AbortController | undefined;
  /** The user ended the running turn in review (`q`). */
  const review = { quitTurn: false };
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
      yes: options.yes,
      signal: startup.signal,
      onQuitTurn: () => {
        review.quitTurn = true;
        turn?.abort();
      },
      ...(options.toolCallsPerStep !== undefined ? { toolCallsPerStep: options.toolCallsPerStep } : {}),
      ...(options.resume
        ? { resume: { sessionId: options.resume.id, messages: options.resume.messages } }
        : {}),
    });
  } catch (error) {
    stopListening();
    if (startup.signal.aborted) return leaving ? STOP_SIGNALS[leaving] : EXIT_INTERRUPTED;
    throw error;
  }
  startup.abort(); // startup is over: from now on Ctrl-C only cancels turns.
  const c = agent.colors;
  const lines = agent.interactive ? undefined : pipedLines();
  const chatHistory = new ChatHistory(join(homeDir(agent.settings), CHAT_HISTORY_FILE));
  const history = chatHistory.entries;
  /** `/run` output for the model, sent with the next message. */
  let shared: string[] = [];
  let status = 0;
  const recorder = new SessionRecorder({
    context,
    agent,
    kind: 'chat',
    resumed: options.resume,
    enabled: agent.settings.saveSessions,
  });
  const stderrColors = colorsFor(context.stderr, context.env);
  // With stdout not a terminal (`| tee incident.log`), answers are plain text.
  const markdown = context.stdout.isTTY ? await terminalMarkdown(context) : undefined;
  try {
    if (options.resume) {
      const resumed = options.resume;
      const target = Object.values(resumed.target).join(' ');
      context.stderr.write(
        stderrColors.dim(
          `resuming session ${resumed.id} (${resumed.turns} turn${resumed.turns === 1 ? '' : 's'}, ${resumed.kind}, ${resumed.runtime}${target ? ` ${target}` : ''}): ${resumed.title}\n`,
        ),
      );
      const now = agent.runtime.target();
      if (resumed.runtime !== agent.runtime.name || JSON.stringify(resumed.target) !== JSON.stringify(now)) {
        context.logger.warn(
          `the session ran on ${resumed.runtime}${target ? ` (${target})` : ''}; this chat runs on ${agent.runtime.name}${Object.keys(now).length > 0 ? ` (${Object.values(now).join(' ')})` : ''}`,
        );
      }
    }
    if (agent.interactive) {
      context.stdout.write(
        `${formatRunHeader(
          {
            command: 'chat',
            model: `${agent.model.provider}:${agent.model.modelId}`,
            ...sessionWhere(agent),
            profile: agent.runtime.profile,
            review: options.review ? 'on' : 'off',
          },
          c,
        )}\n` + c.dim('Type /help for commands, Ctrl-D to leave.\n'),
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
            multiline: { continuation: c.dim('… ') },
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
        chatHistory.add(text.trim());
      }
      const message = text.trim();
      if (message === '') continue;
      const parsed = parseChatLine(message);
      if (parsed.kind === 'command') {
        // Answered here, never sent to the model.
        if (!parsed.command) {
          context.stdout.write(`Unknown command ${parsed.word}. ${c.dim('Type /help for the list.')}\n`);
          continue;
        }
        turn = new AbortController();
        try {
          const next = await parsed.command.run(parsed.args, {
            agent,
            recorder,
            colors: c,
            write: (output) => context.stdout.write(output),
            signal: turn.signal,
            share: (output) => shared.push(output),
          });
          if (next === 'exit') break;
        } finally {
          turn = undefined;
        }
        continue;
      }
      const sent = shared.length > 0 ? `${shared.join('\n\n')}\n\n${parsed.text}` : parsed.text;
      shared = [];
      turn = new AbortController();
      review.quitTurn = false;
      const renderer = new AgentRenderer({
        out: context.stdout,
        mode: options.mode,
        colors: c,
        spinner: agent.spinner,
        where: formatWhere(agent.runtime.name, agent.runtime.target()),
        ...(markdown ? { markdown } : {}),
        ...(context.stdout.isTTY
          ? {
              charts: {
                columns: context.stdout.columns || 80,
                color: colorsFor(context.stdout, context.env).isColorSupported,
              },
            }
          : {}),
      });
      const recording = recorder.beginTurn(sent);
      try {
        agent.runtime.setAuditContext({ instruction: sent });
        let outcome;
        renderer.begin();
        try {
          outcome = await agent.session.send(sent, {
            maxSteps: options.maxSteps,
            signal: turn.signal,
            onEvent: (event) => {
              renderer.handle(event);
              recording.handle(event);
            },
          });
        } catch (error) {
          recorder.endTurn(recording, { stopReason: 'error', error: errorMessage(error) });
          throw error;
        }
        renderer.finish();
        const references = agent.knowledge?.references(renderer.answer) ?? [];
        if (references.length > 0) context.stdout.write(`\n${formatReferences(references, c)}`);
        const record = recorder.endTurn(recording, {
          outcome,
          stopReason: stopReasonOf(outcome, { quit: review.quitTurn }),
        });
        if (context.stderr.isTTY) context.stderr.write(`${usageLine(record, stderrColors)}\n`);
        if (outcome.aborted)
          context.stdout.write(c.yellow(review.quitTurn ? '(turn ended in review)\n' : '(cancelled)\n'));
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
