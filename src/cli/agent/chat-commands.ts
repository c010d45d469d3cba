import { writeFileSync } from 'node:fs';
import { sessionWriteUp } from '../../sessions/session-write-up.js';
import type { Colors } from '../terminal/terminal-style.js';
import type { OpenedAgent } from './open-agent.js';
import type { SessionRecorder } from './session-recorder.js';
import { formatCost, formatTokens } from './turn-report.js';

/** What a chat command may use. */
export interface ChatCommandContext {
  agent: OpenedAgent;
  recorder: SessionRecorder;
  colors: Colors;
  write(text: string): void;
  /** Ends the running `/run` command (Ctrl-C). */
  signal: AbortSignal;
  /** Output of `/run` for the model, sent with the next message. */
  share(text: string): void;
}

/** What a command asks the chat loop to do next. */
export type ChatCommandResult = 'continue' | 'exit';

interface ChatCommand {
  name: string;
  aliases?: readonly string[];
  usage: string;
  summary: string;
  run(args: string, context: ChatCommandContext): ChatCommandResult | Promise<ChatCommandResult>;
}

/** Output of `/run` the model is given: as much as a command's output it sees, head and tail. */
const SHARED_OUTPUT_LIMIT = 10_000;

const COMMANDS: readonly ChatCommand[] = [
  {
    name: 'help',
    usage: '/help',
    summary: 'show this message',
    run: (_args, { write }) => {
      write(`${helpText()}\n`);
      return 'continue';
    },
  },
  {
    name: 'clear',
    usage: '/clear',
    summary: 'forget the conversation so far',
    run: (_args, { agent, colors, write }) => {
      agent.session.clear();
      write(colors.dim('The conversation was cleared.\n'));
      return 'continue';
    },
  },
  {
    name: 'exit',
    aliases: ['quit'],
    usage: '/exit',
    summary: 'leave (Ctrl-D does too)',
    run: () => 'exit',
  },
  {
    name: 'stats',
    usage: '/stats',
    summary: 'tokens used and estimated cost, in this chat',
    run: (_args, { recorder, colors, write }) => {
      const record = recorder.record;
      const commands = record.history.reduce((sum, turn) => sum + turn.commands.length, 0);
      const cost = record.costUsd !== undefined ? ` · ≈ ${formatCost(record.costUsd)}` : '';
      write(
        `${record.turns} turn${record.turns === 1 ? '' : 's'} · ${commands} command${commands === 1 ? '' : 's'} · tokens ${formatTokens(record.usage)}${cost}\n` +
          colors.dim(`session ${record.id} · ${record.provider}:${record.modelId}\n`),
      );
      return 'continue';
    },
  },
  {
    name: 'save',
    usage: '/save FILE',
    summary: 'write this chat up as Markdown (the incident record, masked) to FILE',
    run: (args, { recorder, colors, write }) => {
      const file = args.trim();
      if (file === '') {
        write(`Say where: /save FILE ${colors.dim(`(the session is kept anyway: ${recorder.record.id})`)}\n`);
        return 'continue';
      }
      try {
        writeFileSync(file, sessionWriteUp(recorder.record, { markdown: true }), { mode: 0o600 });
        write(colors.dim(`Saved to ${file}.\n`));
      } catch (error) {
        write(`Could not write ${file}: ${(error as Error).message}\n`);
      }
      return 'continue';
    },
  },
  {
    name: 'run',
    usage: '/run COMMAND',
    summary:
      'run a command yourself (policy and audit apply); its output goes to the model with your next message',
    run: async (args, { agent, colors, write, signal, share }): Promise<ChatCommandResult> => {
      const command = args.trim();
      if (command === '') {
        write('Say what to run: /run COMMAND\n');
        return 'continue';
      }
      const result = await agent.runtime.run(command, {
        signal,
        onOutput: (chunk) => {
          write(Buffer.from(chunk.data).toString('utf8'));
        },
      });
      const status = result.exitCode !== null ? `exit ${result.exitCode}` : (result.notice ?? 'no exit code');
      write(colors.dim(`[${status}]\n`));
      const redactor = agent.runtime.outputRedactor;
      const mask = (text: string): string => (redactor ? redactor.redact(text).text : text);
      const output = headAndTail(mask([result.stdout, result.stderr].filter(Boolean).join('\n')));
      share(
        `I ran \`${command}\` myself (${status}${result.notice && result.exitCode !== null ? `; ${result.notice}` : ''}). Its output:\n\`\`\`\n${output}\n\`\`\``,
      );
      write(colors.dim('The output goes to the model with your next message.\n'));
      return 'continue';
    },
  },
];

function headAndTail(text: string): string {
  if (text.length <= SHARED_OUTPUT_LIMIT) return text;
  const half = SHARED_OUTPUT_LIMIT / 2;
  return `${text.slice(0, half)}\n[... ${text.length - SHARED_OUTPUT_LIMIT} characters cut ...]\n${text.slice(-half)}`;
}

/** The chat's help: its commands and keys. */
export function helpText(): string {
  const width = Math.max(...COMMANDS.map((command) => command.usage.length));
  return [
    'Commands (! works as well as /):',
    ...COMMANDS.map((command) => `  ${command.usage.padEnd(width)}  ${command.summary}`),
    'Keys: Enter sends; Alt-Enter (or Shift-Enter) starts a new line, and a paste stays one message.',
    'Up and down recall earlier messages. Ctrl-C while the model works cancels the running command',
    'and the turn, not the chat; at the prompt it clears the line. Ctrl-D leaves.',
    'To send a message that starts with /, begin it with //.',
  ].join('\n');
}

/**
 * What a chat line is: a command (`/help`, `!clear`, `/run df -h`), a message, or a message
 * whose leading `//` stands for `/`. A line like `/var/log is full` is a message: a command is a
 * word after the slash followed by a space or the end. An unknown command is answered locally
 * and never sent to the model.
 */
export function parseChatLine(
  line: string,
):
  | { kind: 'message'; text: string }
  | { kind: 'command'; command: ChatCommand | undefined; word: string; args: string } {
  if (line.startsWith('//')) return { kind: 'message', text: line.slice(1) };
  const match = /^[/!]([A-Za-z][\w-]*)(?:\s+([\s\S]*))?$/.exec(line);
  if (!match) return { kind: 'message', text: line };
  const word = match[1]!.toLowerCase();
  const command = COMMANDS.find((candidate) => candidate.name === word || candidate.aliases?.includes(word));
  return { kind: 'command', command, word: `${line[0]}${match[1]!}`, args: match[2] ?? '' };
}
