import { z } from 'zod';
import { isNotRunResult, notRunResult, type ReviewDecision } from '../../../runtime/command-review.js';
import { SHELL_LANGUAGE, type CommandLanguage, type RunResult } from '../../../runtime/contract.js';
import { defineTool, type ToolResult } from '../tool-contract.js';
import { wrapUntrusted } from '../untrusted-text.js';

/** Upper bound the model may ask for, in seconds: one hour. */
const MAX_TIMEOUT_SECONDS = 3600;
const DEFAULT_TIMEOUT_SECONDS = 120;

const DESCRIPTION = `Run a shell command on the target machine and get its exit code, stdout and stderr.
Commands run one after another in one persistent shell, so \`cd\` and \`export\` carry over to later commands.
There is no terminal: nothing can prompt for input, so use non-interactive flags (\`-y\`, \`--no-pager\`, \`systemctl --no-pager\`, \`journalctl -n 100 --no-pager\`) and never start editors, pagers or commands that run forever (\`tail -f\`, \`top\`); use bounded forms (\`top -bn1\`, \`journalctl -n 200\`).
Long output is cut in the middle; when that happens the result names a file holding all of it, which ReadSpilledOutput reads in parts or searches.
Prefer several small, read-only commands to one big one, and explain in \`description\` why you run each.`;

/** For a runtime whose commands are not shell commands (SQL...). */
function otherLanguageDescription(language: CommandLanguage): string {
  return `Run a command on the target and get its exit code, stdout and stderr. The target is not a shell: write ${language.description}.
Commands run one after another in one session, so session state carries over to later commands.
There is no terminal: nothing can prompt for input. Keep each command bounded (limit the rows you ask for).
Long output is cut in the middle; when that happens the result names a file holding all of it, which ReadSpilledOutput reads in parts or searches.
Prefer several small, read-only commands to one big one, and explain in \`description\` why you run each.`;
}

export const shellCommandTool = defineTool({
  name: 'ShellCommand',
  summary:
    "Runs a command in the runtime (a shell command, or the runtime's own language) and returns exit code, stdout and stderr",
  description: ({ language }) =>
    language.id === SHELL_LANGUAGE.id ? DESCRIPTION : otherLanguageDescription(language),
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
  lines.push(`Stdout (${result.stdoutBytes} bytes):`, streamText('stdout', result.stdout));
  lines.push(`Stderr (${result.stderrBytes} bytes):`, streamText('stderr', result.stderr));
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

function streamText(stream: 'stdout' | 'stderr', text: string): string {
  return text === '' ? '(empty)' : wrapUntrusted(stream, text.replace(/\n$/, ''));
}
