import { truncateText, type ToolResult } from './tool-contract.js';
import { wrapUntrusted } from './untrusted-text.js';
import { escapeControlCharacters } from './visible-text.js';

/** A block of text from the target (or a server): masked, escaped and wrapped before the model reads it. */
export interface DataBlock {
  source: string;
  text: string;
  /** Number the lines from here, like `cat -n` (after masking, which keeps the line count). */
  numberFrom?: number;
  /** Cut the block in the middle to this many characters. */
  limit?: number;
}

/** A tool result before masking: opsmate's own lines and the target's text, kept apart. */
export interface Draft {
  blocks: Array<string | DataBlock>;
  /** For the user; may hold target text (a diff), masked like the rest. */
  display: string;
  isError: boolean;
  files?: Array<{ path: string; before: string | null; after: string | null }>;
}

export type Redact = (text: string, options?: { keepLineCount?: boolean }) => { text: string; count: number };

/**
 * Masks the data blocks for secrets (line counts kept), shows control characters as `\xNN`,
 * wraps each block as untrusted data, and joins everything into what the model reads, at most
 * `limit` characters. Says how many values were masked and characters escaped.
 */
export function renderDraft(
  draft: Draft,
  redact: Redact,
  limit: number,
): { value: ToolResult; outputBytes: number; failed: boolean; redactions: number; files?: Draft['files'] } {
  let redactions = 0;
  let escaped = 0;
  let bytes = 0;
  const parts: string[] = [];
  for (const block of draft.blocks) {
    if (typeof block === 'string') {
      parts.push(block);
      continue;
    }
    bytes += Buffer.byteLength(block.text);
    const masked = redact(block.text, { keepLineCount: true });
    redactions += masked.count;
    const visible = escapeControlCharacters(masked.text);
    escaped += visible.escaped;
    const numbered =
      block.numberFrom !== undefined ? numberLines(visible.text, block.numberFrom) : visible.text;
    parts.push(
      wrapUntrusted(block.source, block.limit !== undefined ? truncateText(numbered, block.limit) : numbered),
    );
  }
  if (escaped > 0) {
    parts.push(
      `${escaped} control character${escaped === 1 ? '' : 's'} (NUL, ESC...) ${escaped === 1 ? 'is' : 'are'} shown as \\xNN.`,
    );
  }
  if (redactions > 0) parts.push(`${redactions} secret value${redactions === 1 ? '' : 's'} masked.`);
  return {
    value: {
      llmContent: truncateText(parts.join('\n'), limit),
      display: { kind: 'text', text: redact(draft.display).text },
      isError: draft.isError,
    },
    outputBytes: bytes,
    failed: draft.isError,
    redactions,
    ...(draft.files ? { files: draft.files } : {}),
  };
}

/** Lines of `text` numbered like `cat -n` from `firstLine`; a CR before each line end is not shown. */
export function numberLines(text: string, firstLine: number): string {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const width = Math.max(6, String(firstLine + lines.length - 1).length);
  return lines
    .map((line, index) => `${String(firstLine + index).padStart(width)}\t${line.replace(/\r$/, '')}`)
    .join('\n');
}
