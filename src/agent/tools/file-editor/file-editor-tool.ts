import { posix } from 'node:path';
import { z } from 'zod';
import { SHELL_LANGUAGE, type Runtime } from '../../../runtime/contract.js';
import { shellQuote } from '../../../runtime/shell-session/shell-quote.js';
import {
  defineTool,
  truncateText,
  type GuardedCallOutcome,
  type PreparedCall,
  type TargetAccess,
  type ToolContext,
  type ToolResult,
} from '../tool-contract.js';
import { renderDraft, type Draft, type Redact } from '../draft-result.js';
import { wrapUntrusted } from '../untrusted-text.js';
import {
  contentFacts,
  inFileConvention,
  lineOfOffset,
  lineStarts,
  occurrences,
  unifiedDiff,
  type ContentFacts,
} from './file-content.js';
import { fileHistoryOf, type FileHistory } from './file-history.js';
import { sha256Hex, TargetFileError, TargetFiles, type TargetFileStat } from './target-files.js';
import { descriptionFile } from '../description-file.js';

/** Files larger than this are not read whole: `view` pages through them, edits refuse them. */
export const FILE_READ_LIMIT_BYTES = 8 * 1024 * 1024;
/** Most lines one `view` returns, whatever the output limit allows. */
const MAX_VIEW_LINES = 2000;
/** A longer line is cut in a view. */
const MAX_LINE_CHARS = 2000;
/** Lines asked of the target per page of a file too large to read whole. */
const LARGE_FILE_PAGE_LINES = 400;
const MAX_LIST_ENTRIES = 400;
const MAX_SEARCH_LINES = 200;
/** Room kept in the output limit for opsmate's own lines around a file's text. */
const HEADER_ROOM_CHARS = 800;

const COMMANDS = ['view', 'search', 'create', 'replace', 'insert', 'delete_lines', 'undo'] as const;
type FileCommand = (typeof COMMANDS)[number];
const READ_COMMANDS: readonly FileCommand[] = ['view', 'search'];

/** Which arguments each command reads; the others are left out of what is reviewed and audited. */
const FIELDS: Record<FileCommand, readonly string[]> = {
  view: ['startLine', 'endLine', 'depth'],
  search: ['pattern', 'regex', 'ignoreCase', 'contextLines'],
  create: ['content', 'overwrite'],
  replace: ['oldText', 'newText'],
  insert: ['afterLine', 'newText'],
  delete_lines: ['startLine', 'endLine'],
  undo: [],
};

const inputSchema = z
  .object({
    command: z
      .enum(COMMANDS)
      .describe('view, search, create, replace, insert, delete_lines or undo (see the tool description)'),
    path: z
      .string()
      .min(1)
      .describe('Absolute path of the file (or, for view and search, folder) on the target'),
    description: z.string().default('').describe('Why, in a few words, for the user'),
    startLine: z
      .int()
      .min(1)
      .optional()
      .describe('view: first line to show; delete_lines: first line to delete'),
    endLine: z
      .int()
      .min(-1)
      .optional()
      .describe('view: last line to show (-1: to the end); delete_lines: last line to delete'),
    depth: z.int().min(1).max(5).default(2).describe('view of a folder: how many levels to list'),
    pattern: z.string().min(1).optional().describe('search: what to look for'),
    regex: z.boolean().default(false).describe('search: pattern is a POSIX extended regular expression'),
    ignoreCase: z.boolean().default(false).describe('search: ignore case'),
    contextLines: z.int().min(0).max(10).default(2).describe('search: lines of context around each match'),
    content: z.string().optional().describe('create: the whole content of the file'),
    overwrite: z.boolean().default(false).describe('create: replace the file if it exists'),
    oldText: z.string().min(1).optional().describe('replace: the exact text to replace, occurring once'),
    newText: z.string().optional().describe('replace: the text to put instead; insert: the lines to insert'),
    afterLine: z.int().min(0).optional().describe('insert: the line after which to insert (0: at the top)'),
  })
  .superRefine((input, issues) => {
    const need = (field: keyof typeof input, why: string): void => {
      if (input[field] === undefined) issues.addIssue({ code: 'custom', path: [field], message: why });
    };
    if (input.command === 'search') need('pattern', 'search needs a pattern');
    if (input.command === 'create') need('content', 'create needs the content of the file');
    if (input.command === 'replace') {
      need('oldText', 'replace needs oldText, the exact text to replace');
      need('newText', 'replace needs newText (it may be empty)');
    }
    if (input.command === 'insert') {
      need('afterLine', 'insert needs afterLine (0 inserts at the top)');
      need('newText', 'insert needs newText, the lines to insert');
    }
    if (input.command === 'delete_lines') {
      need('startLine', 'delete_lines needs startLine');
      need('endLine', 'delete_lines needs endLine');
      if (input.startLine !== undefined && input.endLine !== undefined && input.endLine < input.startLine) {
        issues.addIssue({
          code: 'custom',
          path: ['endLine'],
          message: 'endLine must not be before startLine',
        });
      }
    }
    if (!input.path.startsWith('/')) {
      issues.addIssue({
        code: 'custom',
        path: ['path'],
        message: 'must be an absolute path (the working directory is in the last ShellCommand result)',
      });
    }
  });

type FileEditorInput = z.output<typeof inputSchema>;

export const fileEditorTool = defineTool({
  name: 'FileEditor',
  summary:
    "Views, searches, creates and edits files on the target (through the runtime's shell), with diffs in review and undo",
  description: descriptionFile(new URL('./file-editor.md', import.meta.url)),
  languages: [SHELL_LANGUAGE.id],
  // Views and searches only read; each call says which it is to the guard.
  readOnly: false,
  inputSchema,
  title: (input) =>
    input.command === 'search'
      ? `search ${JSON.stringify(input.pattern ?? '')} in ${input.path}`
      : `${input.command} ${input.path}`,
  async execute(input, context, options): Promise<ToolResult> {
    const gate = context.guardedCalls;
    if (!gate) {
      return failure(
        'FileEditor cannot act here: this session has no guard for tool calls, so nothing was done.',
      );
    }
    if ((context.runtime.language ?? SHELL_LANGUAGE).id !== SHELL_LANGUAGE.id) {
      return failure(
        `FileEditor needs a shell on the target; the ${context.runtime.name} runtime runs ${context.runtime.language?.description ?? 'another language'}.`,
      );
    }
    input = { ...input, path: normalisePath(input.path) };
    const history = fileHistoryOf(context);
    const session = { context, history };
    const args = relevantArguments(input);
    const readOnly = READ_COMMANDS.includes(input.command);
    let refusal: Draft | undefined;
    const outcome: GuardedCallOutcome<Rendered> = await gate.run<Rendered, Plan>({
      tool: 'FileEditor',
      arguments: args,
      readOnly,
      asShellCommand: shellEquivalent(input, undefined),
      signal: options.signal,
      validate: (raw) => {
        const parsed = inputSchema.safeParse(raw);
        return parsed.success
          ? { ok: true, value: relevantArguments(parsed.data) }
          : {
              ok: false,
              message: parsed.error.issues
                .map((issue) => `${issue.path.join('.')}: ${issue.message}`)
                .join('; '),
            };
      },
      ...(readOnly
        ? {}
        : {
            prepare: async (raw, access) => {
              const call = inputSchema.parse(raw);
              const prepared = await prepareChange(
                { ...call, path: normalisePath(call.path) },
                access,
                session,
              );
              if (!prepared.ok) refusal = prepared.draft;
              return prepared.ok ? prepared.call : { ok: false, reason: prepared.reason };
            },
          }),
      execute: async (raw, plan, access) => {
        const call = inputSchema.parse(raw);
        const draft = readOnly
          ? await read({ ...call, path: normalisePath(call.path) }, access, session)
          : await applyChange(plan!, access, session);
        return { draft };
      },
      mask: ({ draft }, redact) => {
        const rendered = renderDraft(draft, redact, context.maxOutputLength + HEADER_ROOM_CHARS * 2);
        return { ...rendered, value: { draft, result: rendered.value } };
      },
    });
    if (!outcome.ran) {
      // The preparation found the call cannot be done; its words may quote the target: masked.
      if (refusal)
        return renderDraft(refusal, maskWith(context), context.maxOutputLength + HEADER_ROOM_CHARS * 2).value;
      const text = `The FileEditor call was NOT run: ${outcome.reason}.\nNothing was read or changed. Do not assume its outcome; ask the user or try another approach.`;
      return { llmContent: text, display: { kind: 'text', text: `not run: ${outcome.reason}` } };
    }
    const result = outcome.value.result!;
    if (!outcome.edited) return result;
    const note = `The user edited the call before it ran: ${wrapUntrusted('arguments', JSON.stringify(outcome.arguments))}\n`;
    return { ...result, llmContent: note + result.llmContent };
  },
});

/** A draft, and once masked, the result the model and the user get. */
interface Rendered {
  draft: Draft;
  result?: ToolResult;
}

/** A change worked out by `prepare`, carried out by `applyChange`. */
interface Plan {
  command: FileCommand;
  path: string;
  /** Where the bytes are written: the path, or the file a symlink points at. */
  before: Buffer | null;
  beforeDigest: string | null;
  /** null: remove the file (the undo of a create). */
  after: Buffer | null;
  stat: TargetFileStat;
  /** One line on what changes, e.g. `replaced 1 occurrence (line 12)`. */
  summary: string;
  diff: string;
}

interface Session {
  context: ToolContext;
  history: FileHistory;
}

function maskWith(context: ToolContext): Redact {
  const redactor = context.redactor;
  return (text, options) => (redactor ? redactor.redact(text, options) : { text, count: 0 });
}

/** `/etc//nginx/../hosts/` → `/etc/hosts`: one name per file, for the history and the policy. */
function normalisePath(path: string): string {
  const normal = posix.normalize(path);
  return normal.length > 1 && normal.endsWith('/') ? normal.slice(0, -1) : normal;
}

function failure(message: string): ToolResult {
  return { llmContent: message, display: { kind: 'text', text: message }, isError: true };
}

function relevantArguments(input: FileEditorInput): Record<string, unknown> {
  const kept: Record<string, unknown> = { command: input.command, path: input.path };
  for (const field of FIELDS[input.command]) {
    const value = (input as Record<string, unknown>)[field];
    if (value !== undefined) kept[field] = value;
  }
  if (input.description) kept.description = input.description;
  return kept;
}

/** The shell command a call stands for, for the command policy (never run). */
function shellEquivalent(input: FileEditorInput, realPath: string | undefined): string {
  const paths = [input.path, ...(realPath && realPath !== input.path ? [realPath] : [])].map(shellQuote);
  if (input.command === 'view') return `cat -- ${paths.join(' ')}`;
  if (input.command === 'search')
    return `grep -rn -e ${shellQuote(input.pattern ?? '')} -- ${paths.join(' ')}`;
  return `tee -- ${paths.join(' ')}`;
}

function historyKey(runtime: Runtime, path: string): string {
  return `${runtime.name}\n${JSON.stringify(runtime.target())}\n${path}`;
}

function where(runtime: Runtime): string {
  const facts = Object.entries(runtime.target()).map(([key, value]) => `${key}=${value}`);
  return `on the target: ${runtime.name} runtime${facts.length > 0 ? `, ${facts.join(' ')}` : ''}`;
}

function fileFacts(
  stat: TargetFileStat,
  facts: ContentFacts | undefined,
  digest: string | undefined,
): string {
  const parts: string[] = [];
  if (stat.size !== undefined) parts.push(`${stat.size} bytes`);
  if (facts) parts.push(`${facts.lines} line${facts.lines === 1 ? '' : 's'}`);
  if (stat.mode !== undefined) parts.push(`mode ${stat.mode.toString(8).padStart(4, '0')}`);
  if (stat.uid !== undefined) parts.push(`owner ${stat.uid}:${stat.gid}`);
  if (digest) parts.push(`sha256 ${digest.slice(0, 12)}`);
  return parts.join(', ');
}

function conventions(facts: ContentFacts): string[] {
  const notes: string[] = [];
  if (facts.lineEndings === 'crlf')
    notes.push('Line endings: CRLF (edits keep them: write \\n, it is stored as \\r\\n).');
  if (facts.lineEndings === 'mixed') notes.push('Line endings: mixed LF and CRLF (\\r is not shown).');
  if (!facts.finalNewline && facts.lines > 0) notes.push('No newline at the end of the file.');
  if (facts.invalidUtf8Bytes > 0) {
    notes.push(
      `${facts.invalidUtf8Bytes} byte${facts.invalidUtf8Bytes === 1 ? ' is' : 's are'} not valid UTF-8 (shown as U+FFFD; text that includes them cannot be matched by replace, but edits elsewhere keep them).`,
    );
  }
  return notes;
}

// ---------------------------------------------------------------------------------------------
// Reading: view and search

async function read(input: FileEditorInput, access: TargetAccess, session: Session): Promise<Draft> {
  const files = new TargetFiles(access);
  try {
    return input.command === 'search'
      ? await search(input, files, session)
      : await view(input, files, session);
  } catch (error) {
    return errorDraft(error, `${input.command} ${input.path}`);
  }
}

function errorDraft(error: unknown, what: string): Draft {
  if (!(error instanceof TargetFileError)) throw error;
  return {
    blocks: [
      `${what}: ${error.message}.`,
      ...(error.targetText ? ['The target said:', { source: 'stderr', text: error.targetText }] : []),
    ],
    display: `${what}: ${error.message}`,
    isError: true,
  };
}

async function view(input: FileEditorInput, files: TargetFiles, session: Session): Promise<Draft> {
  const { context, history } = session;
  const runtime = context.runtime;
  const stat = await files.stat(input.path);
  const located = `${input.path} (${where(runtime)})`;
  if (stat.kind === 'missing') {
    return simpleDraft(
      `${located} does not exist${stat.symlink ? ' (it is a symbolic link to nothing)' : ''}${stat.parentExists === false ? ', nor does its folder' : ''}.`,
      true,
    );
  }
  if (stat.kind === 'other') {
    return simpleDraft(
      `${located} is not a regular file (a device, socket or FIFO): reading it could block or never end. Use ShellCommand with a bounded command (e.g. \`head -c 4096\`).`,
      true,
    );
  }
  if (stat.kind === 'directory') {
    const listing = await files.list(input.path, { depth: input.depth, maxEntries: MAX_LIST_ENTRIES });
    const text = listing.entries.map((entry) => (entry.directory ? `${entry.path}/` : entry.path)).join('\n');
    return {
      blocks: [
        `Folder: ${located}, ${input.depth} level${input.depth === 1 ? '' : 's'} deep (.git folders not entered): ${listing.entries.length} entr${listing.entries.length === 1 ? 'y' : 'ies'}${listing.cut ? `, cut at ${MAX_LIST_ENTRIES}; list a subfolder or lower depth for the rest` : ''}.`,
        ...(text ? [{ source: 'listing', text }] : ['(empty)']),
      ],
      display: `listed ${input.path}: ${listing.entries.length} entries`,
      isError: false,
    };
  }
  const key = historyKey(runtime, input.path);
  const budget = Math.max(1000, context.maxOutputLength - HEADER_ROOM_CHARS);
  const start = input.startLine ?? 1;
  if ((stat.size ?? 0) > FILE_READ_LIMIT_BYTES) {
    const wanted =
      input.endLine !== undefined && input.endLine >= start
        ? input.endLine
        : start + LARGE_FILE_PAGE_LINES - 1;
    const page = await files.readLines(input.path, { start, end: wanted, maxBytes: budget * 2 });
    history.markSeen(key, page.digest);
    return pageDraft({
      located,
      header: `${fileFacts(stat, undefined, page.digest)}, ${page.totalLines} lines (too large to read whole: shown in pages; it cannot be edited with FileEditor)`,
      text: page.data.toString('utf8'),
      start,
      totalLines: page.totalLines,
      notes: [],
      budget,
      endLine: input.endLine,
    });
  }
  const data = await files.read(input.path, { maxBytes: FILE_READ_LIMIT_BYTES });
  const facts = contentFacts(data);
  const digest = sha256Hex(data);
  if (facts.binary) {
    return simpleDraft(
      `${located} is a binary file (${fileFacts(stat, undefined, digest)}); it is not shown and FileEditor does not change it. Use ShellCommand to inspect it (\`file\`, \`od -c | head\`, \`strings | head\`).`,
      false,
    );
  }
  history.markSeen(key, digest);
  if (facts.lines > 0 && start > facts.lines) {
    return simpleDraft(`${located} has ${facts.lines} lines; startLine ${start} is past its end.`, true);
  }
  return pageDraft({
    located,
    header: fileFacts(stat, facts, digest),
    text: data.toString('utf8'),
    start,
    totalLines: facts.lines,
    notes: conventions(facts),
    budget,
    endLine: input.endLine,
    wholeText: true,
  });
}

function simpleDraft(text: string, isError: boolean): Draft {
  return { blocks: [text], display: text, isError };
}

/** One page of a file's lines: as many as fit the output limit, from `start`. */
function pageDraft(options: {
  located: string;
  header: string;
  /** The whole file's text, or (for a large file) just the requested lines. */
  text: string;
  wholeText?: boolean;
  start: number;
  totalLines: number;
  notes: string[];
  budget: number;
  endLine: number | undefined;
}): Draft {
  const all = options.text.split('\n');
  if (all[all.length - 1] === '') all.pop();
  const offset = options.wholeText ? options.start - 1 : 0;
  const last = options.endLine !== undefined && options.endLine >= options.start ? options.endLine : Infinity;
  const shown: string[] = [];
  let used = 0;
  let cutLines = 0;
  for (let index = offset; index < all.length && options.start + shown.length <= last; index++) {
    let line = all[index]!;
    if (line.length > MAX_LINE_CHARS) {
      line = `${line.slice(0, MAX_LINE_CHARS)} [... ${line.length - MAX_LINE_CHARS} more characters]`;
      cutLines++;
    }
    if (shown.length > 0 && (used + line.length + 8 > options.budget || shown.length >= MAX_VIEW_LINES))
      break;
    shown.push(line);
    used += line.length + 8;
  }
  const end = options.start + shown.length - 1;
  const more = end < options.totalLines;
  const range =
    shown.length === 0
      ? `The file is empty.`
      : `Lines ${options.start}-${end} of ${options.totalLines}${more ? ` (view more with startLine ${end + 1})` : ''}:`;
  return {
    blocks: [
      `File: ${options.located}`,
      options.header,
      ...options.notes,
      ...(cutLines > 0
        ? [`${cutLines} long line${cutLines === 1 ? ' was' : 's were'} cut at ${MAX_LINE_CHARS} characters.`]
        : []),
      range,
      ...(shown.length > 0 ? [{ source: 'file', text: shown.join('\n'), numberFrom: options.start }] : []),
    ],
    display:
      shown.length === 0
        ? `viewed ${options.located}: empty`
        : `viewed lines ${options.start}-${end} of ${options.totalLines}`,
    isError: false,
  };
}

async function search(input: FileEditorInput, files: TargetFiles, session: Session): Promise<Draft> {
  const runtime = session.context.runtime;
  const stat = await files.stat(input.path);
  const located = `${input.path} (${where(runtime)})`;
  if (stat.kind === 'missing') return simpleDraft(`${located} does not exist.`, true);
  if (stat.kind === 'other') return simpleDraft(`${located} is not a regular file or a folder.`, true);
  const found = await files.search({
    path: input.path,
    pattern: input.pattern!,
    regex: input.regex,
    ignoreCase: input.ignoreCase,
    contextLines: input.contextLines,
    maxLines: MAX_SEARCH_LINES,
    directory: stat.kind === 'directory',
  });
  const kind = `${input.regex ? 'regular expression' : 'fixed string'}${input.ignoreCase ? ', any case' : ''}`;
  const head = `Search for ${JSON.stringify(input.pattern)} (${kind}) in ${located}`;
  if (found.output.trim() === '') {
    return simpleDraft(
      `${head}: no matches${found.status > 1 ? ' (some files could not be read)' : ''}.`,
      false,
    );
  }
  const budget = Math.max(1000, session.context.maxOutputLength - HEADER_ROOM_CHARS);
  const output = truncateText(found.output, budget);
  return {
    blocks: [
      `${head}${found.cut ? `: the first ${MAX_SEARCH_LINES} lines of output (narrow the search for the rest)` : ''}${output !== found.output ? '; the middle was cut to fit the output limit' : ''}:`,
      { source: 'search', text: output },
    ],
    display: `searched ${input.path}`,
    isError: false,
  };
}

// ---------------------------------------------------------------------------------------------
// Changing: create, replace, insert, delete_lines, undo

type PrepareOutcome =
  { ok: true; call: Extract<PreparedCall<Plan>, { ok: true }> } | { ok: false; reason: string; draft: Draft };

async function prepareChange(
  input: FileEditorInput,
  access: TargetAccess,
  session: Session,
): Promise<PrepareOutcome> {
  const files = new TargetFiles(access);
  const refuse = (reason: string, extra: Draft['blocks'] = []): PrepareOutcome => ({
    ok: false,
    reason,
    draft: {
      blocks: [`Nothing was changed: ${reason}`, ...extra],
      display: `not changed: ${reason}`,
      isError: true,
    },
  });
  try {
    const runtime = session.context.runtime;
    const key = historyKey(runtime, input.path);
    const stat = await files.stat(input.path);
    const located = `${input.path} (${where(runtime)})`;
    let before: Buffer | null = null;
    let facts: ContentFacts | undefined;
    let digest: string | null = null;
    const needsFile = input.command !== 'create' && input.command !== 'undo';
    if (stat.kind === 'directory') return refuse(`${located} is a folder.`);
    if (stat.kind === 'other') return refuse(`${located} is not a regular file.`);
    if (stat.kind === 'missing' && needsFile) return refuse(`${located} does not exist.`);
    if (stat.kind === 'file') {
      if ((stat.size ?? 0) > FILE_READ_LIMIT_BYTES) {
        return refuse(
          `${located} is ${stat.size} bytes, more than FileEditor changes (${FILE_READ_LIMIT_BYTES}); use ShellCommand.`,
        );
      }
      if (input.command === 'create' && !input.overwrite) {
        return refuse(
          `${located} already exists; view it, then call create with overwrite: true to replace it, or use replace.`,
        );
      }
      before = await files.read(input.path, { maxBytes: FILE_READ_LIMIT_BYTES });
      facts = contentFacts(before);
      digest = sha256Hex(before);
      if (facts.binary && input.command !== 'undo')
        return refuse(`${located} is a binary file; FileEditor does not change binary files.`);
      const seen = session.history.seen(key);
      if (seen !== undefined && seen !== digest && input.command !== 'undo') {
        return refuse(
          `${located} changed on the target since you last viewed it (sha256 ${seen.slice(0, 12)} then, ${digest.slice(0, 12)} now). View it again before changing it.`,
        );
      }
      if (seen === undefined && (input.command === 'insert' || input.command === 'delete_lines')) {
        return refuse(
          `view ${input.path} first: the line numbers of ${input.command} must come from a view.`,
        );
      }
    }
    const computed = computeChange(input, { before, facts, digest, session, key, located });
    if (!computed.ok) return refuse(computed.reason);
    const after = computed.after;
    const path = input.path;
    const diff = unifiedDiff({
      path,
      before: before === null ? null : before.toString('utf8'),
      after: after === null ? null : after.toString('utf8'),
    });
    const realPath = stat.realPath && stat.realPath !== path ? stat.realPath : undefined;
    const removing = after === null;
    return {
      ok: true,
      call: {
        ok: true,
        plan: {
          command: input.command,
          path,
          before,
          beforeDigest: digest,
          after,
          stat,
          summary: computed.summary,
          diff,
        },
        preview: diff,
        asShellCommand: removing ? `rm -- ${shellQuote(path)}` : shellEquivalent(input, realPath),
        files: [{ path, before: digest, after: after === null ? null : sha256Hex(after) }],
      },
    };
  } catch (error) {
    if (!(error instanceof TargetFileError)) throw error;
    return refuse(
      `${error.message}.`,
      error.targetText ? ['The target said:', { source: 'stderr', text: error.targetText }] : [],
    );
  }
}

function computeChange(
  input: FileEditorInput,
  found: {
    before: Buffer | null;
    facts: ContentFacts | undefined;
    digest: string | null;
    session: Session;
    key: string;
    located: string;
  },
): { ok: true; after: Buffer | null; summary: string } | { ok: false; reason: string } {
  const { before, facts, located } = found;
  switch (input.command) {
    case 'create': {
      const after = Buffer.from(input.content ?? '', 'utf8');
      if (before !== null && before.equals(after))
        return { ok: false, reason: `${located} already has exactly this content.` };
      return { ok: true, after, summary: before === null ? 'created the file' : 'replaced the whole file' };
    }
    case 'replace': {
      const data = before!;
      const raw = Buffer.from(input.oldText!, 'utf8');
      let needle = inFileConvention(input.oldText!, facts!);
      let at = occurrences(data, needle);
      if (at.length === 0 && !needle.equals(raw)) {
        needle = raw;
        at = occurrences(data, needle);
      }
      const starts = lineStarts(data);
      if (at.length !== 1) {
        if (at.length > 1) {
          const lines = at.slice(0, 10).map((offset) => lineOfOffset(starts, offset));
          return {
            ok: false,
            reason: `oldText occurs ${at.length} times in ${located} (at lines ${lines.join(', ')}${at.length > 10 ? ', ...' : ''}); include more of the surrounding lines so it occurs once.`,
          };
        }
        const trimmed = input.oldText!.trim();
        const loose =
          trimmed !== '' && trimmed !== input.oldText
            ? occurrences(data, inFileConvention(trimmed, facts!))
            : [];
        return {
          ok: false,
          reason: `oldText does not occur in ${located}${loose.length > 0 ? ` (without its leading and trailing whitespace it occurs ${loose.length} time${loose.length === 1 ? '' : 's'}, at line ${lineOfOffset(starts, loose[0]!)}: check the indentation and line breaks)` : ''}; view the file and copy the text exactly.`,
        };
      }
      const replacement =
        needle === raw ? Buffer.from(input.newText!, 'utf8') : inFileConvention(input.newText!, facts!);
      if (replacement.equals(needle)) return { ok: false, reason: 'newText is the same as oldText.' };
      const offset = at[0]!;
      const after = Buffer.concat([
        data.subarray(0, offset),
        replacement,
        data.subarray(offset + needle.length),
      ]);
      return { ok: true, after, summary: `replaced 1 occurrence (at line ${lineOfOffset(starts, offset)})` };
    }
    case 'insert': {
      const data = before!;
      const eol = facts!.lineEndings === 'crlf' ? '\r\n' : '\n';
      const lines = facts!.lines;
      const afterLine = input.afterLine!;
      if (afterLine > lines)
        return {
          ok: false,
          reason: `${located} has ${lines} lines; afterLine ${afterLine} is past its end.`,
        };
      let text = inFileConvention(input.newText!, facts!).toString('utf8');
      if (text === '') return { ok: false, reason: 'newText is empty: there is nothing to insert.' };
      const starts = lineStarts(data);
      let offset: number;
      if (afterLine === 0) offset = 0;
      else if (afterLine < lines) offset = starts[afterLine]!;
      else offset = data.length;
      if (afterLine === lines && lines > 0 && !facts!.finalNewline) {
        // After a last line that has no newline: start a new line, and keep the file without one.
        text = eol + text.replace(/\r?\n$/, '');
      } else if (!text.endsWith('\n')) text += eol;
      const after = Buffer.concat([
        data.subarray(0, offset),
        Buffer.from(text, 'utf8'),
        data.subarray(offset),
      ]);
      const count = text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
      return {
        ok: true,
        after,
        summary: `inserted ${count} line${count === 1 ? '' : 's'} after line ${afterLine}`,
      };
    }
    case 'delete_lines': {
      const data = before!;
      const lines = facts!.lines;
      const first = input.startLine!;
      const last = input.endLine === -1 ? lines : input.endLine!;
      if (last > lines || first > lines) return { ok: false, reason: `${located} has ${lines} lines.` };
      const starts = lineStarts(data);
      let from = starts[first - 1]!;
      const to = last < lines ? starts[last]! : data.length;
      if (last === lines && !facts!.finalNewline && first > 1) {
        // The new last line keeps the file's lack of a final newline.
        from = data[from - 2] === 0x0d ? from - 2 : from - 1;
      }
      const after = Buffer.concat([data.subarray(0, from), data.subarray(to)]);
      const count = last - first + 1;
      return { ok: true, after, summary: `deleted line${count === 1 ? ` ${first}` : `s ${first}-${last}`}` };
    }
    case 'undo': {
      const { session, key, digest } = found;
      const change = session.history.last(key);
      if (!change) {
        return {
          ok: false,
          reason: session.history.forgot(key)
            ? `the earlier versions of ${located} were dropped to keep opsmate's memory bounded.`
            : `FileEditor has not changed ${located} in this session; there is nothing to undo.`,
        };
      }
      if (change.after !== digest) {
        return {
          ok: false,
          reason: `${located} changed since FileEditor's ${change.what} (sha256 ${change.after?.slice(0, 12) ?? 'none: removed'} then, ${digest?.slice(0, 12) ?? 'none: it does not exist'} now); undoing would lose those changes. View it and edit it instead.`,
        };
      }
      return {
        ok: true,
        after: change.before,
        summary:
          change.before === null
            ? `removed the file (undoing its ${change.what})`
            : `restored the content before the ${change.what}`,
      };
    }
    default:
      return { ok: false, reason: `${input.command} does not change files` };
  }
}

async function applyChange(plan: Plan, access: TargetAccess, session: Session): Promise<Draft> {
  const files = new TargetFiles(access);
  const runtime = session.context.runtime;
  const key = historyKey(runtime, plan.path);
  const located = `${plan.path} (${where(runtime)})`;
  const history = session.history;
  try {
    let afterDigest: string | null = null;
    let kept = '';
    let created = false;
    if (plan.after === null) {
      await files.remove(plan.path, { expectDigest: plan.beforeDigest! });
    } else {
      const outcome = await files.write(plan.path, plan.after, {
        expect: plan.beforeDigest === null ? { absent: true } : { digest: plan.beforeDigest },
      });
      afterDigest = outcome.afterDigest ?? sha256Hex(plan.after);
      created = outcome.createdParents;
      const old = plan.stat;
      const now = outcome.stat;
      if (old.kind === 'file' && old.mode !== undefined) {
        const same = old.mode === now.mode && old.uid === now.uid && old.gid === now.gid;
        kept = same
          ? `Mode ${old.mode.toString(8).padStart(4, '0')} and owner ${old.uid}:${old.gid} are kept.`
          : `Mode and owner changed from ${old.mode.toString(8)} ${old.uid}:${old.gid} to ${now.mode?.toString(8)} ${now.uid}:${now.gid}.`;
      } else if (now.mode !== undefined) {
        kept = `New file: mode ${now.mode.toString(8).padStart(4, '0')}, owner ${now.uid}:${now.gid}.`;
      }
    }
    if (plan.command === 'undo') history.pop(key);
    else history.record(key, { before: plan.before, after: afterDigest, what: plan.command });
    history.markSeen(key, afterDigest ?? undefined);
    const change = { path: plan.path, before: plan.beforeDigest, after: afterDigest };
    return {
      blocks: [
        `${capitalise(plan.summary)} in ${located}.${created ? ' Its folder was created.' : ''}`,
        ...(kept ? [kept] : []),
        `sha256 ${plan.beforeDigest?.slice(0, 12) ?? '(new)'} -> ${afterDigest?.slice(0, 12) ?? '(removed)'}.${plan.command === 'undo' ? '' : ' FileEditor undo restores the previous content.'}`,
        'The change:',
        { source: 'diff', text: plan.diff },
      ],
      display: `${plan.summary} in ${plan.path}\n${plan.diff}`,
      isError: false,
      files: [change],
    };
  } catch (error) {
    if (!(error instanceof TargetFileError)) throw error;
    // A write that failed part way left something: keep the old content for undo.
    let now: string | undefined;
    try {
      now = await files.digest(plan.path);
    } catch {
      now = undefined;
    }
    const touched = now !== undefined && now !== plan.beforeDigest;
    if (touched && plan.command !== 'undo')
      history.record(key, { before: plan.before, after: now!, what: plan.command });
    const draft = errorDraft(error, `${plan.command} ${plan.path}`);
    if (touched) {
      draft.blocks.push(
        `The file was changed part way (sha256 now ${now!.slice(0, 12)}); FileEditor undo restores its previous content.`,
      );
    }
    draft.files = [{ path: plan.path, before: plan.beforeDigest, after: now ?? null }];
    return draft;
  }
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
