import { z } from 'zod';
import { isNotRunResult, notRunResult, type ReviewDecision } from '../../../runtime/command-review.js';
import { SHELL_LANGUAGE, type CommandLanguage, type RunResult } from '../../../runtime/contract.js';
import { defineTool, type ToolResult } from '../tool-contract.js';
import { wrapUntrusted } from '../untrusted-text.js';
import { escapeControlCharacters } from '../visible-text.js';

/** Upper bound the model may ask for, in seconds: one hour. */
const MAX_TIMEOUT_SECONDS = 3600;
const DEFAULT_TIMEOUT_SECONDS = 120;

/** How much of each stream the model sees, in words, e.g. `10000 bytes of stdout and of stderr`. */
function outputLimitText(maxOutputLength: number | undefined): string {
  return maxOutputLength === undefined
    ? 'Long output'
    : `Output beyond ${maxOutputLength} bytes per stream (stdout, stderr)`;
}

function shellDescription(maxOutputLength: number | undefined): string {
  return `Run a shell command on the target machine and get its exit code, stdout and stderr.
Commands run one after another in one persistent shell, so \`cd\` and \`export\` carry over to later commands.
The exit code is that of the last command of a list or pipeline (\`a; b\`, \`a | b\`): a failure earlier in it does not show there (use \`set -o pipefail\` in bash, or run the parts separately).
There is no terminal: nothing can prompt for input, so use non-interactive flags (\`-y\`, \`--no-pager\`, \`systemctl --no-pager\`, \`journalctl -n 100 --no-pager\`) and never start editors, pagers or commands that run forever (\`tail -f\`, \`top\`); use bounded forms (\`top -bn1\`, \`journalctl -n 200\`).
${outputLimitText(maxOutputLength)} is cut in the middle (the start and the end are kept); when that happens the result names a file holding all of it, which ReadSpilledOutput reads in parts or searches. Binary output and control characters (NUL, ESC...) are shown escaped as \\xNN and counted.
Prefer several small, read-only commands to one big one, and explain in \`description\` why you run each.`;
}

/** For a runtime whose commands are not shell commands (SQL...). */
function otherLanguageDescription(language: CommandLanguage, maxOutputLength: number | undefined): string {
  return `Run a command on the target and get its exit code, stdout and stderr. The target is not a shell: write ${language.description}.
Commands run one after another in one session, so session state carries over to later commands.
There is no terminal: nothing can prompt for input. Keep each command bounded (limit the rows you ask for).
${outputLimitText(maxOutputLength)} is cut in the middle; when that happens the result names a file holding all of it, which ReadSpilledOutput reads in parts or searches.
Prefer several small, read-only commands to one big one, and explain in \`description\` why you run each.`;
}

export const shellCommandTool = defineTool({
  name: 'ShellCommand',
  summary:
    "Runs a command in the runtime (a shell command, or the runtime's own language) and returns exit code, stdout and stderr",
  description: ({ language, maxOutputLength }) =>
    language.id === SHELL_LANGUAGE.id
      ? shellDescription(maxOutputLength)
      : otherLanguageDescription(language, maxOutputLength),
  readOnly: false,
  inputSchema: z.object({
    description: z.string().default('').describe('Why you run this command, in a few words, for the user'),
    command: z.string().min(1).describe("The command to run: a shell command, or in the runtime's language"),
    timeout: z
      .number()
      .positive()
      .max(MAX_TIMEOUT_SECONDS)
      .default(DEFAULT_TIMEOUT_SECONDS)
      .describe(`Seconds before the command is killed (default ${DEFAULT_TIMEOUT_SECONDS})`),
  }),
  title: (input) => input.command,
  async execute(input, context, options): Promise<ToolResult> {
    const decision: ReviewDecision = context.reviewer
      ? await context.reviewer.review(
          { command: input.command, runtime: context.runtime.name, target: context.runtime.target() },
          { signal: options.signal },
        )
      : { action: 'approve' };
    if (decision.action === 'cancel') {
      const reason = decision.reason?.trim() || 'the user declined to run it';
      const result = notRunResult(input.command, reason);
      return {
        llmContent: `The command was NOT run: ${reason}.\nCommand: ${input.command}\nDo not assume its outcome; ask the user or try another approach.`,
        display: { kind: 'command', result },
      };
    }
    const command = decision.action === 'edit' ? decision.command : input.command;
    const result = await context.runtime.run(command, {
      timeoutMs: Math.round(input.timeout * 1000),
      signal: options.signal,
      ...(options.onOutput ? { onOutput: options.onOutput } : {}),
    });
    if (isNotRunResult(result)) {
      // Refused by the guard (policy deny, or cancelled in review): say so plainly.
      const reason = result.notice?.replace(/^not run: /, '') ?? 'refused';
      return {
        llmContent: `The command was NOT run: ${reason}.\nCommand: ${result.command}\nDo not assume its outcome; ask the user or try another approach.`,
        display: { kind: 'command', result },
      };
    }
    // The guard's reviewer may have edited it too.
    const editedFrom =
      result.command !== command ? input.command : decision.action === 'edit' ? input.command : undefined;
    context.spillFiles.remember(result.spillFiles.stdout);
    context.spillFiles.remember(result.spillFiles.stderr);
    const editNote =
      editedFrom !== undefined
        ? `The user edited your command before it ran.\nYou proposed: ${input.command}\n`
        : '';
    return {
      llmContent: editNote + describeRunForModel(result),
      display: {
        kind: 'command',
        result,
        ...(editedFrom !== undefined ? { editedFrom } : {}),
      },
      isError: false,
    };
  },
});

/** The model's view of a run: the facts first, then each stream wrapped as untrusted data. */
export function describeRunForModel(result: RunResult): string {
  const lines = [
    `Command: ${result.command}`,
    `Exit code: ${result.exitCode ?? 'none (the command did not finish)'}`,
  ];
  if (result.timedOut) lines.push('Timed out: yes');
  if (result.cancelled) lines.push('Cancelled: yes (by the user)');
  // The notice may quote the target (a shell's message) and the folder name is the target's: both
  // are data, like the output.
  if (result.notice) lines.push('Notice:', wrapUntrusted('notice', result.notice));
  if (result.cwd) lines.push('Working directory afterwards:', wrapUntrusted('cwd', result.cwd));
  // An empty stream is left out: "Stderr (0 bytes): (empty)" on every call is noise.
  const streams = [
    { name: 'Stdout', source: 'stdout', text: result.stdout, bytes: result.stdoutBytes },
    { name: 'Stderr', source: 'stderr', text: result.stderr, bytes: result.stderrBytes },
  ] as const;
  for (const stream of streams) {
    if (stream.bytes === 0 && stream.text === '') continue;
    lines.push(...streamLines(stream));
  }
  if (streams.every((stream) => stream.bytes === 0 && stream.text === ''))
    lines.push('No output (stdout and stderr are empty).');
  const background = result.backgroundOutput;
  if (background) {
    lines.push(
      `Printed between commands by background processes of earlier commands (${background.bytes} bytes; not this command's output):`,
      ...(background.stdout
        ? [wrapUntrusted('background stdout', background.stdout.replace(/\n$/, ''))]
        : []),
      ...(background.stderr
        ? [wrapUntrusted('background stderr', background.stderr.replace(/\n$/, ''))]
        : []),
    );
  }
  if (result.truncated) {
    const files = Object.entries(result.spillFiles).map(([stream, path]) => `${stream}: ${path}`);
    lines.push(
      'Output truncated: the middle of the long stream(s) was cut, as marked above.' +
        (files.length > 0
          ? ` The full text is in ${files.join(', ')}; read line ranges of it or search it with ReadSpilledOutput.`
          : ' The full text could not be saved; rerun with a narrower command (grep, head, tail).'),
    );
  }
  return lines.join('\n');
}

/** A stream's heading and block; control bytes escaped and counted, so nothing hides in it. */
function streamLines(stream: { name: string; source: string; text: string; bytes: number }): string[] {
  const visible = escapeControlCharacters(stream.text);
  const replaced = (stream.text.match(/\uFFFD/g) ?? []).length;
  const notes: string[] = [];
  if (visible.nul > 0) notes.push(`${visible.nul} NUL`);
  if (visible.escaped - visible.nul > 0) notes.push(`${visible.escaped - visible.nul} other control`);
  if (replaced > 0) notes.push(`${replaced} invalid UTF-8 (shown as U+FFFD)`);
  const shown = stream.text.length;
  const binary = shown > 0 && (visible.escaped + replaced) / shown > 0.3;
  let heading = `${stream.name} (${stream.bytes} bytes)`;
  if (notes.length > 0) {
    heading += `; ${binary ? 'binary: ' : ''}what is shown holds ${notes.join(', ')} bytes${visible.escaped > 0 ? ', control bytes shown as \\xNN (runs as \\xNN ×count)' : ''}`;
  }
  return [`${heading}:`, wrapUntrusted(stream.source, visible.text.replace(/\n$/, ''))];
}
