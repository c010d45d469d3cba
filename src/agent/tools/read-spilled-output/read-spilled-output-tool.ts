import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { z } from 'zod';
import { errorMessage } from '../../../errors/opsmate-error.js';
import { defineTool, truncateText, type ToolContext, type ToolResult } from '../tool-contract.js';
import { wrapUntrusted } from '../untrusted-text.js';
import { LineMatcher, MatchBudgetExceeded, MAX_PATTERN_LENGTH } from './line-matcher.js';

const MAX_LINES = 2000;
const DEFAULT_LINES = 200;

const DESCRIPTION = `Read the full output of an earlier ShellCommand whose output was cut. Its result names the file (e.g. ".../spill/123.stdout").
Without \`pattern\`: returns \`lineCount\` lines from \`startLine\` (1-based), with line numbers.
With \`pattern\` (an RE2 regular expression, as in grep -E: no backreferences or lookaround): returns up to \`lineCount\` matching lines at or after \`startLine\`, with line numbers, like grep -n.
The files live on the opsmate machine, so this works whatever runtime the commands ran in. Only files named in earlier results can be read.`;

export const readSpilledOutputTool = defineTool({
  name: 'ReadSpilledOutput',
  // Spill files live on the opsmate machine: one tool for every target of a session.
  usesTarget: false,
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
    pattern: z
      .string()
      .optional()
      .describe(
        `RE2 regular expression (at most ${MAX_PATTERN_LENGTH} characters); when set, return only matching lines`,
      ),
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
    let matcher: LineMatcher | undefined;
    if (input.pattern !== undefined) {
      const opened = LineMatcher.open({
        pattern: input.pattern,
        ignoreCase: input.ignoreCase,
        signal: options.signal,
      });
      if ('problem' in opened) return fail(`pattern is not a valid regular expression: ${opened.problem}`);
      matcher = opened.matcher;
    }
    let found: Found;
    try {
      found = await collectLines({
        path: input.file,
        startLine: input.startLine,
        limit: input.lineCount,
        signal: options.signal,
        ...(context.redactor ? { redactor: context.redactor } : {}),
        ...(matcher ? { matcher } : {}),
      });
    } catch (error) {
      if (options.signal.aborted) throw error;
      return fail(`cannot read ${input.file}: ${errorMessage(error)}`);
    } finally {
      matcher?.close();
    }
    const what = matcher
      ? `${found.lines.length} line(s) matching /${input.pattern}/ from line ${input.startLine}`
      : `${found.lines.length} line(s) from line ${input.startLine}`;
    const end =
      found.stoppedAt !== undefined
        ? `The search stopped at line ${found.stoppedAt} (${new MatchBudgetExceeded(matcher?.budgetMs).message}): narrow the pattern, or call again with startLine ${found.stoppedAt}.`
        : found.complete
          ? `The file has ${found.totalLines} line(s).`
          : 'More lines follow; call again with a later startLine.';
    const body = found.lines.length > 0 ? found.lines.join('\n') : '(nothing)';
    const note = found.masked > 0 ? ` ${found.masked} secret value(s) masked.` : '';
    return {
      llmContent: `${what} of ${input.file}. ${end}${note}\n${wrapUntrusted(input.file, truncateMasked(body, context.maxOutputLength))}`,
      display: { kind: 'text', text: `${what}. ${end}${note}` },
    };
  },
});

/**
 * Cuts masked text to `limit` characters. A cut never leaves most of a value readable: the
 * text was masked before the cut, and a mask cut in two is dropped rather than half shown.
 */
function truncateMasked(text: string, limit: number): string {
  const cut = truncateText(text, limit);
  return cut
    .replace(/\[REDACTED:[^\]\n]*(?=\n\[\.\.\. \d+ characters omitted)/, '')
    .replace(/(characters omitted \.\.\.\]\n)[^[\n]*\]/, '$1');
}

/** Lines masked together: enough context for secrets that span lines (keys, YAML blocks, env pairs). */
const MASK_CHUNK_LINES = 512;
/** Lines before a chunk that are masked with it, so a value whose name is on an earlier line is seen. */
const MASK_CONTEXT_LINES = 64;

/**
 * Streams the file line by line, so a spill of any size is read in bounded memory. With a
 * redactor, lines are masked in chunks (with the lines before them as context) before anything
 * is matched or returned: a pattern sees only masked text, so it cannot test a secret's
 * characters one by one, and a range that starts inside a key or a YAML block stays masked.
 */
interface Found {
  lines: string[];
  totalLines: number;
  complete: boolean;
  masked: number;
  /** Set when the matching budget ran out: the first line not searched. */
  stoppedAt?: number;
}

async function collectLines(options: {
  path: string;
  startLine: number;
  limit: number;
  matcher?: LineMatcher;
  signal: AbortSignal;
  redactor?: NonNullable<ToolContext['redactor']>;
}): Promise<Found> {
  const stream = createReadStream(options.path, { encoding: 'utf8', signal: options.signal });
  const reader = createInterface({ input: stream, crlfDelay: Infinity });
  const lines: string[] = [];
  let number = 0;
  let complete = true;
  let masked = 0;
  let context: string[] = [];
  let chunk: string[] = [];
  let chunkStart = 1;
  let done = false;
  let stoppedAt: number | undefined;
  const flush = async (): Promise<void> => {
    if (chunk.length === 0) return;
    let texts = chunk;
    if (options.redactor) {
      const joined = [...context, ...chunk].join('\n');
      const result = await options.redactor.redactAsync(joined, {
        keepLineCount: true,
        signal: options.signal,
      });
      texts = result.text.split('\n').slice(context.length);
      // Count only what this chunk added (its context was counted with the chunk before).
      if (result.count > 0 && texts.some((text, index) => text !== chunk[index]))
        masked += texts.filter((text, index) => text !== chunk[index]).length;
    }
    const first = Math.max(0, options.startLine - chunkStart);
    let hits: Set<number> | undefined;
    if (options.matcher && first < texts.length) {
      try {
        hits = new Set((await options.matcher.match(texts.slice(first))).map((index) => index + first));
      } catch (error) {
        if (!(error instanceof MatchBudgetExceeded)) throw error;
        stoppedAt = chunkStart + first;
        done = true;
        return;
      }
    }
    for (let index = first; index < texts.length && !done; index++) {
      const lineNumber = chunkStart + index;
      const text = texts[index] ?? '';
      if (hits && !hits.has(index)) continue;
      if (lines.length === options.limit) {
        complete = false;
        done = true;
        break;
      }
      lines.push(`${lineNumber}: ${text}`);
    }
    context = chunk.slice(-MASK_CONTEXT_LINES);
    chunk = [];
  };
  try {
    for await (const raw of reader) {
      number++;
      // Without a pattern, lines long before the range need no masking, only their context.
      if (!options.matcher && number < options.startLine - MASK_CONTEXT_LINES) continue;
      if (chunk.length === 0) chunkStart = number;
      chunk.push(raw);
      if (chunk.length >= MASK_CHUNK_LINES) await flush();
      if (done) break;
    }
    if (!done) await flush();
  } finally {
    reader.close();
    stream.destroy();
  }
  return {
    lines,
    totalLines: number,
    complete: complete && stoppedAt === undefined,
    masked,
    ...(stoppedAt !== undefined ? { stoppedAt } : {}),
  };
}
