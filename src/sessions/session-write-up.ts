import type { SessionCommand, SessionRecord, SessionTurn, StopReason } from './session-record.js';

const STOP_TEXT: Record<StopReason, string> = {
  answer: 'answered',
  'tool-calls-only': 'commands only (no observation asked for)',
  'step-limit': 'no answer: still calling tools at the step limit',
  interrupted: 'interrupted',
  quit: 'ended in review',
  error: 'failed',
};

/**
 * A saved session as something to read after the incident: who asked what, on which target,
 * every command with its exit status and duration, the model's thinking and its answers.
 * `markdown` gives Markdown (headings, a table per turn, code spans) to paste into a ticket;
 * otherwise plain text for the terminal.
 */
export function sessionWriteUp(record: SessionRecord, options: { markdown: boolean }): string {
  const md = options.markdown;
  const lines: string[] = [];
  const target = targetText(record.runtime, record.target);
  const heading = (level: number, text: string): void => {
    lines.push(
      md
        ? `${'#'.repeat(level)} ${text}`
        : level === 1
          ? `${text}\n${'='.repeat(Math.min(text.length, 80))}`
          : `${text}\n${'-'.repeat(Math.min(text.length, 80))}`,
    );
    lines.push('');
  };
  heading(1, `Session ${record.id}: ${record.title || '(no instruction)'}`);
  const facts: Array<[string, string]> = [
    ['Started', timeText(record.createdAt)],
    ['Last turn', timeText(record.updatedAt)],
    ['Command', `opsmate ${record.kind}`],
    ['Model', record.model],
    ['Target', target],
    ['Policy profile', record.policyProfile ?? 'unknown'],
    ['Turns', String(record.turns)],
    [
      'Tokens',
      `${record.usage.inputTokens.toLocaleString('en-US')} in, ${record.usage.outputTokens.toLocaleString('en-US')} out${record.costUsd !== undefined ? ` (about $${record.costUsd.toFixed(4)})` : ''}`,
    ],
  ];
  for (const [name, value] of facts)
    lines.push(md ? `- **${name}:** ${value}` : `${`${name}:`.padEnd(16)}${value}`);
  lines.push('');
  record.history.forEach((turn, index) => writeTurn(lines, turn, index + 1, md));
  return `${lines.join('\n').trimEnd()}\n`;
}

function writeTurn(lines: string[], turn: SessionTurn, number: number, md: boolean): void {
  const title = oneLine(turn.instruction, 120);
  lines.push(
    md
      ? `## ${number}. ${escapeMd(title)}`
      : `${number}. ${title}\n${'-'.repeat(Math.min(title.length + 3, 80))}`,
  );
  lines.push('');
  const meta = `${timeText(turn.startedAt)} · ${(turn.durationMs / 1000).toFixed(1)} s · ${turn.steps} model call${turn.steps === 1 ? '' : 's'} · ${turn.usage.inputTokens + turn.usage.outputTokens} tokens · ${STOP_TEXT[turn.stopReason]}`;
  lines.push(md ? `_${meta}_` : meta, '');
  if (turn.instruction.includes('\n')) {
    lines.push(
      md ? '**Asked:**' : 'Asked:',
      '',
      ...(md ? ['```text', turn.instruction, '```'] : indent(turn.instruction)),
      '',
    );
  }
  for (const thought of turn.thoughts)
    lines.push(md ? `> ${thought.replace(/\n/g, '\n> ')}` : `Thought: ${thought}`, '');
  if (turn.commands.length > 0) {
    if (md) {
      lines.push('| # | Command | Exit | Duration | Note |', '| --- | --- | --- | --- | --- |');
      turn.commands.forEach((command, index) => {
        lines.push(
          `| ${index + 1} | ${codeCell(commandText(command))} | ${exitText(command)} | ${durationText(command)} | ${escapeCell(noteText(command))} |`,
        );
      });
    } else {
      turn.commands.forEach((command, index) => {
        const note = noteText(command);
        lines.push(`  ${String(index + 1).padStart(2)}. $ ${oneLine(commandText(command), 200)}`);
        lines.push(`      ${exitText(command)} · ${durationText(command)}${note ? ` · ${note}` : ''}`);
      });
    }
    lines.push('');
  }
  if (turn.error) lines.push(md ? `**Error:** ${escapeMd(turn.error)}` : `Error: ${turn.error}`, '');
  if (turn.answer.trim() !== '') {
    lines.push(md ? '### Answer' : 'Answer:', '');
    lines.push(...(md ? [turn.answer.trim()] : indent(turn.answer.trim())), '');
  }
}

function commandText(command: SessionCommand): string {
  return command.tool === 'ShellCommand' || command.tool === ''
    ? command.command
    : `${command.tool} ${command.command}`;
}

function exitText(command: SessionCommand): string {
  if (!command.ran) return 'not run';
  if (command.timedOut) return 'timed out';
  if (command.cancelled) return 'cancelled';
  return command.exitCode === null ? 'no exit code' : `exit ${command.exitCode}`;
}

function durationText(command: SessionCommand): string {
  return command.durationMs < 1000
    ? `${Math.round(command.durationMs)} ms`
    : `${(command.durationMs / 1000).toFixed(1)} s`;
}

function noteText(command: SessionCommand): string {
  const parts = [
    command.proposed !== undefined ? `edited in review (proposed: ${oneLine(command.proposed, 80)})` : '',
    command.notice ? oneLine(command.notice, 160) : '',
  ];
  return parts.filter(Boolean).join('; ');
}

function targetText(runtime: string, target: Record<string, string>): string {
  const facts = Object.entries(target).map(([key, value]) => `${key}=${value}`);
  return facts.length > 0 ? `${runtime} (${facts.join(' ')})` : runtime;
}

function timeText(iso: string): string {
  return iso
    .replace('T', ' ')
    .replace(/\.\d+Z$/, ' UTC')
    .replace(/Z$/, ' UTC');
}

function indent(text: string): string[] {
  return text.split('\n').map((line) => `  ${line}`);
}

function oneLine(text: string, max: number): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

function escapeMd(text: string): string {
  return text.replace(/([\\`*_[\]<>|])/g, '\\$1');
}

function escapeCell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

/** A command in a table cell: a code span long enough not to be closed by backticks inside it. */
function codeCell(text: string): string {
  const line = oneLine(text, 200).replace(/\|/g, '\\|');
  const fence = '`'.repeat(Math.max(1, ...[...line.matchAll(/`+/g)].map((match) => match[0].length + 1)));
  return `${fence} ${line} ${fence}`;
}
