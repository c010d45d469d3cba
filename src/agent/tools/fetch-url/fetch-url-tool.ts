import { z } from 'zod';
import { SHELL_LANGUAGE } from '../../../runtime/contract.js';
import { shellQuote } from '../../../runtime/shell-session/shell-quote.js';
import { renderDraft, type Draft } from '../draft-result.js';
import { defineTool, type TargetAccess, type ToolContext, type ToolResult } from '../tool-contract.js';
import { FetchFailure, fetchLocally, fetchOnTarget, type FetchedResponse } from './http-fetch.js';
import { readableBody } from './readable-body.js';
import { descriptionFile } from '../description-file.js';

/** Bytes of a body fetched at most; the rest is not transferred. */
export const MAX_BODY_BYTES = 2 * 1024 * 1024;
const DEFAULT_TIMEOUT_SECONDS = 30;
const MAX_TIMEOUT_SECONDS = 120;
/** Headers worth showing; cookies and the like stay out. */
/** Room for opsmate's lines around the body in the output limit. */
const HEADER_ROOM_CHARS = 1000;
const SHOWN_HEADERS = [
  'content-type',
  'content-length',
  'location',
  'server',
  'retry-after',
  'www-authenticate',
];

const inputSchema = z.object({
  url: z
    .url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' })
    .describe('The http or https URL to GET'),
  from: z
    .enum(['auto', 'target', 'opsmate'])
    .default('auto')
    .describe(
      'auto (the target, else the opsmate machine), target, or opsmate (the machine opsmate runs on)',
    ),
  timeout: z
    .number()
    .positive()
    .max(MAX_TIMEOUT_SECONDS)
    .default(DEFAULT_TIMEOUT_SECONDS)
    .describe(`Seconds to wait for the response (default ${DEFAULT_TIMEOUT_SECONDS})`),
  description: z.string().default('').describe('Why, in a few words, for the user'),
});

type FetchInput = z.output<typeof inputSchema>;

export const fetchUrlTool = defineTool({
  name: 'FetchUrl',
  summary:
    'GETs an http(s) URL from the target (curl/wget) or the opsmate machine, and returns it as readable text',
  description: descriptionFile(new URL('./fetch-url.md', import.meta.url)),
  readOnly: true,
  inputSchema,
  title: (input) => `GET ${input.url}${input.from === 'auto' ? '' : ` (from ${input.from})`}`,
  async execute(input, context, options): Promise<ToolResult> {
    const gate = context.guardedCalls;
    if (!gate)
      return failure(
        'FetchUrl cannot act here: this session has no guard for tool calls, so nothing was fetched.',
      );
    const { description: _why, ...args } = input;
    const outcome = await gate.run<Fetched>({
      tool: 'FetchUrl',
      arguments: args,
      readOnly: true,
      // Judged like the curl GET it is, wherever it runs.
      asShellCommand: `curl -sS -- ${shellQuote(input.url)}`,
      signal: options.signal,
      validate: (raw) => {
        const parsed = inputSchema.safeParse(raw);
        return parsed.success
          ? { ok: true, value: parsed.data }
          : { ok: false, message: parsed.error.issues.map((issue) => issue.message).join('; ') };
      },
      execute: async (raw, _plan, access) => ({
        draft: await fetchUrl(inputSchema.parse(raw), access, context),
      }),
      mask: ({ draft }, redact) => {
        const rendered = renderDraft(draft, redact, context.maxOutputLength + HEADER_ROOM_CHARS);
        return { ...rendered, value: { draft, result: rendered.value } };
      },
    });
    if (!outcome.ran) {
      const text = `The FetchUrl call was NOT run: ${outcome.reason}.\nNothing was fetched. Do not assume its outcome; ask the user or try another approach.`;
      return { llmContent: text, display: { kind: 'text', text: `not run: ${outcome.reason}` } };
    }
    return outcome.value.result!;
  },
});

interface Fetched {
  draft: Draft;
  result?: ToolResult;
}

function failure(message: string): ToolResult {
  return { llmContent: message, display: { kind: 'text', text: message }, isError: true };
}

function isLoopback(url: string): boolean {
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return host === 'localhost' || host.endsWith('.localhost') || /^127\./.test(host) || host === '::1';
}

async function fetchUrl(input: FetchInput, access: TargetAccess, context: ToolContext): Promise<Draft> {
  const runtime = context.runtime;
  const shell = (runtime.language ?? SHELL_LANGUAGE).id === SHELL_LANGUAGE.id;
  const timeoutMs = Math.round(input.timeout * 1000);
  const common = { url: input.url, timeoutMs, maxBytes: MAX_BODY_BYTES, signal: access.signal };
  const onTarget = `the target (${runtime.name} runtime)`;
  const limit = context.maxOutputLength;
  // The local runtime's target is this machine: fetching "from opsmate" there is the same place.
  const sameMachine = runtime.name === 'local';
  let why = '';
  if (input.from !== 'opsmate' && shell) {
    try {
      const response = await fetchOnTarget({ ...common, runtime: access.runtime });
      if (response.client !== 'none')
        return await describe(input, response, `${onTarget}, with ${response.client}`, limit);
      why = response.reason;
    } catch (error) {
      if (!(error instanceof FetchFailure)) throw error;
      const fallBack = input.from === 'auto' && error.connect && !isLoopback(input.url) && !sameMachine;
      if (!fallBack) return failed(input, error, onTarget);
      why = `the target could not connect: ${error.clientText.split('\n')[0] || error.message}`;
    }
    if (input.from === 'target') {
      return refused(
        `GET ${input.url} from ${onTarget}: not possible, ${why}. Use from: "opsmate" to fetch it from the machine opsmate runs on.`,
      );
    }
  } else if (!shell) why = `the ${runtime.name} runtime has no shell`;
  if (why && isLoopback(input.url) && !sameMachine) {
    return refused(
      `GET ${input.url}: not fetched: ${why}, and ${new URL(input.url).hostname} on the opsmate machine is not the target. Use from: "opsmate" if you mean the opsmate machine's own loopback.`,
    );
  }
  const here = `the opsmate machine${why ? ` (${why})` : ''}`;
  try {
    return await describe(input, await fetchLocally(common), here, limit);
  } catch (error) {
    if (!(error instanceof FetchFailure)) throw error;
    return failed(input, error, here);
  }
}

function refused(text: string): Draft {
  return { blocks: [text], display: text, isError: true };
}

function failed(input: FetchInput, error: FetchFailure, where: string): Draft {
  const head = `GET ${input.url} from ${where} failed: ${error.message}.`;
  return {
    blocks: [
      head,
      ...(error.clientText ? ['The client said:', { source: 'fetch-error', text: error.clientText }] : []),
    ],
    display: head,
    isError: true,
  };
}

async function describe(
  input: FetchInput,
  response: FetchedResponse,
  where: string,
  limit: number,
): Promise<Draft> {
  const body = await readableBody(response.body, response.headers['content-type']);
  const blocks: Draft['blocks'] = [
    `URL: ${input.url}`,
    `Fetched from: ${where}`,
    `Status: ${response.status ?? 'unknown'}${response.statusText ? ` ${response.statusText}` : ''}`,
  ];
  if (response.redirects.length > 0) {
    blocks.push(`Redirected ${response.redirects.length} time(s); the last Location:`, {
      source: 'http-location',
      text: response.redirects.at(-1)!,
    });
  }
  const headers = SHOWN_HEADERS.filter((name) => response.headers[name] !== undefined).map(
    (name) => `${name}: ${response.headers[name]}`,
  );
  if (headers.length > 0) blocks.push('Headers:', { source: 'http-headers', text: headers.join('\n') });
  const size = `${response.body.length} bytes${response.cut ? ` (cut at ${MAX_BODY_BYTES}; the rest was not fetched)` : ''}`;
  if (body.kind === 'empty') blocks.push('Body: empty');
  else if (body.kind === 'binary') {
    blocks.push(
      `Body: ${size} of binary data (${response.headers['content-type'] ?? 'no content type'}); not shown.`,
    );
  } else {
    const how =
      body.kind === 'html' ? ', HTML converted to text' : body.kind === 'json' ? ', JSON pretty-printed' : '';
    blocks.push(`Body: ${size}${how}:`, { source: 'http-body', text: body.text, limit });
  }
  return {
    blocks,
    display:
      `GET ${input.url} from ${where}: ${response.status ?? '?'} ${response.statusText}, ${response.body.length} bytes`.trim(),
    isError: false,
  };
}
