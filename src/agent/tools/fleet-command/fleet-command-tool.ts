import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { errorMessage } from '../../../errors/opsmate-error.js';
import { groupOutcomes, summarizeOutcomes } from '../../../fleet/group-results.js';
import { defineTool } from '../tool-contract.js';
import { wrapUntrusted } from '../untrusted-text.js';
import { escapeControlCharacters } from '../visible-text.js';
import { descriptionFile } from '../description-file.js';

const MAX_TIMEOUT_SECONDS = 3600;

/** Head and tail of `text` within `limit` bytes (about), saying what was cut. */
function cut(text: string, limit: number): string {
  if (Buffer.byteLength(text) <= limit) return text;
  const half = Math.floor(limit / 2);
  return `${text.slice(0, half)}\n[... ${Buffer.byteLength(text) - limit} bytes cut: read the target's file below ...]\n${text.slice(-half)}`;
}

export const fleetCommandTool = defineTool({
  name: 'FleetCommand',
  summary: "Runs one command on every target of the session's fleet and returns the results grouped",
  description: descriptionFile(new URL('./fleet-command.md', import.meta.url)),
  languages: ['shell'],
  // It acts on the fleet, not on the session's target(s): it takes no target argument.
  usesTarget: false,
  inputSchema: z.object({
    command: z.string().min(1).describe('The shell command, run on each target on its own'),
    pattern: z
      .string()
      .optional()
      .describe('Ansible-style pattern selecting targets within the fleet (default: all of them)'),
    description: z.string().optional().describe('Why you run it, for the operator'),
    timeout: z
      .number()
      .int()
      .min(1)
      .max(MAX_TIMEOUT_SECONDS)
      .optional()
      .describe('Seconds each target may take (default 120)'),
  }),
  readOnly: false,
  title: (input) => `fleet${input.pattern ? ` ${input.pattern}` : ''}: ${input.command}`,
  async execute(input, context, options) {
    const fleet = context.fleet;
    if (!fleet) {
      const text =
        'This session has no fleet: FleetCommand is not available (the operator starts one with --fleet GROUP).';
      return { llmContent: text, display: { kind: 'text', text }, isError: true };
    }
    let outcomes;
    try {
      outcomes = await fleet.run({
        command: input.command,
        ...(input.pattern !== undefined ? { pattern: input.pattern } : {}),
        ...(input.timeout !== undefined ? { timeoutMs: input.timeout * 1000 } : {}),
        signal: options.signal,
      });
    } catch (error) {
      const text = `Nothing was run: ${errorMessage(error)}`;
      return { llmContent: text, display: { kind: 'text', text }, isError: true };
    }
    // Every target's whole output goes to a file of its own the model can page through.
    const run = randomBytes(4).toString('hex');
    const files = new Map<string, string>();
    await Promise.all(
      outcomes.map(async (outcome) => {
        if (outcome.status === 'unreachable' || outcome.status === 'not-run') return;
        const path = join(fleet.spillDir, `fleet-${run}-${outcome.target.replace(/[^\w.-]/g, '_')}.txt`);
        const full = [
          `target: ${outcome.target}`,
          `exit code: ${outcome.exitCode ?? 'none'}`,
          '--- stdout ---',
          outcome.stdout,
          '--- stderr ---',
          outcome.stderr,
          ...(outcome.spillFiles?.stdout
            ? [`(stdout was cut; all of it: ${outcome.spillFiles.stdout})`]
            : []),
          ...(outcome.spillFiles?.stderr
            ? [`(stderr was cut; all of it: ${outcome.spillFiles.stderr})`]
            : []),
        ].join('\n');
        await writeFile(path, full, { mode: 0o600 });
        context.spillFiles.remember(path);
        context.spillFiles.remember(outcome.spillFiles?.stdout);
        context.spillFiles.remember(outcome.spillFiles?.stderr);
        files.set(outcome.target, path);
      }),
    );
    const groups = groupOutcomes(outcomes);
    const lines = [
      `Command: ${escapeControlCharacters(input.command)}`,
      `Fleet ${fleet.name}${input.pattern ? `, pattern ${input.pattern}` : ''}: ${outcomes.length} targets: ${summarizeOutcomes(outcomes)}.`,
      `${groups.length} distinct results, the odd ones out first:`,
    ];
    const display: string[] = [];
    groups.forEach((group, index) => {
      const who = `${group.targets.length} target${group.targets.length === 1 ? '' : 's'}: ${group.targets.join(', ')}`;
      if (group.status === 'unreachable' || group.status === 'not-run') {
        const heading = `${index + 1}. ${group.status === 'unreachable' ? 'Unreachable' : 'Not run'} (${who})`;
        lines.push(
          '',
          heading,
          wrapUntrusted('reasons', group.notices.map((item) => `${item.target}: ${item.notice}`).join('\n')),
        );
        display.push(heading);
        return;
      }
      const heading = `${index + 1}. Exit code ${group.exitCode ?? 'none'}${group.status === 'failed' && group.exitCode === null ? ' (timed out or cut short)' : ''} (${who})`;
      lines.push('', heading);
      if (group.stdout !== '')
        lines.push('Stdout:', wrapUntrusted('stdout', cut(group.stdout, context.maxOutputLength)));
      if (group.stderr !== '')
        lines.push('Stderr:', wrapUntrusted('stderr', cut(group.stderr, context.maxOutputLength)));
      if (group.stdout === '' && group.stderr === '') lines.push('(no output)');
      display.push(heading);
    });
    lines.push('', 'Full output of each target (for ReadSpilledOutput):');
    for (const [target, path] of files) lines.push(`- ${target}: ${path}`);
    return {
      llmContent: lines.join('\n'),
      display: { kind: 'text', text: display.join('\n') },
      isError: outcomes.every((outcome) => outcome.status !== 'ok'),
    };
  },
});
