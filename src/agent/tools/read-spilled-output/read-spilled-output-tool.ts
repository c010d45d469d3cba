import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { z } from 'zod';
import { errorMessage } from '../../../errors/opsmate-error.js';
import { defineTool, truncateText, type ToolResult } from '../tool-contract.js';
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
    const body = found.lines.length > 0 ? found.lines.join('\n') : '(nothing)';
    return {
      llmContent: `${what} of ${input.file}. ${end}\n${wrapUntrusted(input.file, truncateText(body, context.maxOutputLength))}`,
      display: { kind: 'text', text: `${what}. ${end}` },
    };
  },
});

/** Streams the file line by line, so a spill of any size is read in bounded memory. */
async function collectLines(options: {
  path: string;
  startLine: number;
  limit: number;
  matcher?: RegExp;
  signal: AbortSignal;
}): Promise<{ lines: string[]; totalLines: number; complete: boolean }> {
  const stream = createReadStream(options.path, { encoding: 'utf8', signal: options.signal });
  const reader = createInterface({ input: stream, crlfDelay: Infinity });
  const lines: string[] = [];
  let number = 0;
  let complete = true;
  try {
    for await (const line of reader) {
      number++;
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
