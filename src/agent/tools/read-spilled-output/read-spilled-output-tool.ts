import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { z } from 'zod';
import { errorMessage } from '../../../errors/opsmate-error.js';
import { defineTool, truncateText, type ToolContext, type ToolResult } from '../tool-contract.js';
import { wrapUntrusted } from '../untrusted-text.js';

const MAX_LINES = 2000;
const DEFAULT_LINES = 200;

const DESCRIPTION = `Read the full output of an earlier ShellCommand whose output was cut. Its result names the file (e.g. ".../spill/123.stdout").
Without \`pattern\`: returns \`lineCount\` lines from \`startLine\` (1-based), with line numbers.
With \`pattern\` (a JavaScript regular expression): returns up to \`lineCount\` matching lines at or after \`startLine\`, with line numbers, like grep -n.
The files live on the opsmate machine, so this works whatever runtime the commands ran in. Only files named in earlier results can be read.`;

export const readSpilledOutputTool = defineTool({
  name: 'ReadSpilledOutput',
  summary: 'Reads line ranges of, or greps, the full output of a command whose output was cut',
  description: DESCRIPTION,
  readOnly: true,
  inputSchema: z.object({
    file: z.string().min(1).describe('The spill file named in a ShellCommand result'),
    startLine: z.int().min(1).default(1).describe('First line to return or search from, 1-based'),
    lineCount: z
      .int()
      .min(1)
      .max(MAX_LINES)
      .default(DEFAULT_LINES)
      .describe(`How many lines (or matches) to return, at most ${MAX_LINES}`),
    pattern: z.string().optional().describe('Regular expression; when set, return only matching lines'),
    ignoreCase: z.boolean().default(false).describe('Match `pattern` without regard to case'),
  }),
  title: (input) =>
    input.pattern
      ? `grep ${JSON.stringify(input.pattern)} ${input.file}`
      : `lines ${input.startLine}-${input.startLine + input.lineCount - 1} of ${input.file}`,
  async execute(input, context, options): Promise<ToolResult> {
    const fail = (message: string): ToolResult => ({
      llmContent: message,
      display: { kind: 'text', text: message },
      isError: true,
    });
    if (!context.spillFiles.has(input.file)) {
      const known = context.spillFiles.list();
      return fail(
        `${input.file} is not a spill file of this session. ` +
          (known.length > 0
            ? `Readable files: ${known.join(', ')}`
            : 'No command output has been cut so far.'),
      );
    }
    let matcher: RegExp | undefined;
    if (input.pattern !== undefined) {
      try {
        matcher = new RegExp(input.pattern, input.ignoreCase ? 'i' : '');
      } catch (error) {
        return fail(`pattern is not a valid regular expression: ${errorMessage(error)}`);
      }
    }
    let found: { lines: string[]; totalLines: number; complete: boolean };
    try {
      found = await collectLines({
        path: input.file,
        startLine: input.startLine,
        limit: input.lineCount,
        signal: options.signal,
        maskKeyBlocks: context.redactor !== undefined,
        ...(matcher ? { matcher } : {}),
      });
    } catch (error) {
      return fail(`cannot read ${input.file}: ${errorMessage(error)}`);
    }
    const what = matcher
      ? `${found.lines.length} line(s) matching /${input.pattern}/ from line ${input.startLine}`
      : `${found.lines.length} line(s) from line ${input.startLine}`;
    const end = found.complete
      ? `The file has ${found.totalLines} line(s).`
      : 'More lines follow; call again with a later startLine.';
    // The spill file holds the raw output: mask it here as the guard masks what a command returns.
    const masked = maskLines(found.lines, context.redactor);
    const body = masked.lines.length > 0 ? masked.lines.join('\n') : '(nothing)';
    const note = masked.count > 0 ? ` ${masked.count} secret value(s) masked.` : '';
    return {
      llmContent: `${what} of ${input.file}. ${end}${note}\n${wrapUntrusted(input.file, truncateText(body, context.maxOutputLength))}`,
      display: { kind: 'text', text: `${what}. ${end}${note}` },
    };
  },
});

/** Masks numbered lines (`12: text`) together, so a secret spread over lines is still seen. */
function maskLines(lines: string[], redactor: ToolContext['redactor']): { lines: string[]; count: number } {
  if (!redactor || lines.length === 0) return { lines, count: 0 };
  const split = lines.map((line) => /^(\d+: )([\s\S]*)$/.exec(line) ?? ['', '', line]);
  const masked = redactor.redact(split.map((parts) => parts[2]).join('\n'), { keepLineCount: true });
  if (masked.count === 0) return { lines, count: 0 };
  const texts = masked.text.split('\n');
  return { lines: split.map((parts, index) => `${parts[1]}${texts[index] ?? ''}`), count: masked.count };
}

/** Streams the file line by line, so a spill of any size is read in bounded memory. */
async function collectLines(options: {
  path: string;
  startLine: number;
  limit: number;
  matcher?: RegExp;
  signal: AbortSignal;
  /**
   * Replace the lines inside private key blocks before matching, wherever the range starts, so
   * neither a line range nor a pattern can pull key material out piece by piece.
   */
  maskKeyBlocks?: boolean;
}): Promise<{ lines: string[]; totalLines: number; complete: boolean }> {
  const stream = createReadStream(options.path, { encoding: 'utf8', signal: options.signal });
  const reader = createInterface({ input: stream, crlfDelay: Infinity });
  const lines: string[] = [];
  let number = 0;
  let complete = true;
  try {
    let insideKey = false;
    for await (const raw of reader) {
      number++;
      let line = raw;
      if (options.maskKeyBlocks) {
        if (/-----BEGIN [A-Z0-9 ]*PRIVATE KEY/.test(raw))
          insideKey = !/-----END [A-Z0-9 ]*PRIVATE KEY/.test(raw);
        else if (/-----END [A-Z0-9 ]*PRIVATE KEY/.test(raw)) insideKey = false;
        else if (insideKey) line = '[REDACTED:private-key]';
      }
      if (number < options.startLine) continue;
      if (options.matcher && !options.matcher.test(line)) continue;
      if (lines.length === options.limit) {
        complete = false;
        break;
      }
      lines.push(`${number}: ${line}`);
    }
  } finally {
    reader.close();
    stream.destroy();
  }
  return { lines, totalLines: number, complete };
}
