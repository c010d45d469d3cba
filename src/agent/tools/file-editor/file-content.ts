import { createTwoFilesPatch } from 'diff';

/** Bytes looked at to tell a text file from a binary one (as git and grep do). */
const SNIFF_BYTES = 8000;
/** A diff that takes longer than this to compute is not shown in full. */
const DIFF_TIMEOUT_MS = 2_000;

/** What a file's bytes look like, for the model and for edits that keep its conventions. */
export interface ContentFacts {
  /** Holds a NUL byte, or mostly bytes that are neither UTF-8 text nor whitespace. */
  binary: boolean;
  /** Bytes that are not valid UTF-8 (each shown as U+FFFD when decoded). */
  invalidUtf8Bytes: number;
  /** `crlf` when every line ends in CR LF, `mixed` when some do. */
  lineEndings: 'lf' | 'crlf' | 'mixed' | 'none';
  finalNewline: boolean;
  /** Lines as `wc -l` counts them, plus one for a last line without a newline. */
  lines: number;
}

export function contentFacts(data: Uint8Array): ContentFacts {
  const sample = data.subarray(0, SNIFF_BYTES);
  const invalid = countInvalidUtf8(data);
  let control = 0;
  let nul = false;
  for (const byte of sample) {
    if (byte === 0) nul = true;
    else if (byte < 0x20 && byte !== 0x09 && byte !== 0x0a && byte !== 0x0d && byte !== 0x0c && byte !== 0x1b)
      control++;
  }
  const sampleInvalid = countInvalidUtf8(sample);
  // Latin-1 text has a few bytes in a hundred that are not UTF-8; random bytes have most of them.
  const binary = nul || (sample.length > 0 && (control + sampleInvalid) / sample.length > 0.3);
  let lf = 0;
  let crlf = 0;
  for (let index = 0; index < data.length; index++) {
    if (data[index] !== 0x0a) continue;
    lf++;
    if (index > 0 && data[index - 1] === 0x0d) crlf++;
  }
  const finalNewline = data.length > 0 && data[data.length - 1] === 0x0a;
  return {
    binary,
    invalidUtf8Bytes: invalid,
    lineEndings: lf === 0 ? 'none' : crlf === lf ? 'crlf' : crlf === 0 ? 'lf' : 'mixed',
    finalNewline,
    lines: lf + (data.length > 0 && !finalNewline ? 1 : 0),
  };
}

/** Bytes of `data` that a UTF-8 decoder would replace. */
export function countInvalidUtf8(data: Uint8Array): number {
  let invalid = 0;
  let index = 0;
  while (index < data.length) {
    const byte = data[index]!;
    const length =
      byte < 0x80
        ? 1
        : byte >= 0xc2 && byte <= 0xdf
          ? 2
          : byte >= 0xe0 && byte <= 0xef
            ? 3
            : byte >= 0xf0 && byte <= 0xf4
              ? 4
              : 0;
    if (length === 0) {
      invalid++;
      index++;
      continue;
    }
    let ok = index + length <= data.length;
    for (let next = 1; ok && next < length; next++) ok = ((data[index + next] ?? 0) & 0xc0) === 0x80;
    if (ok && length === 3) {
      const second = data[index + 1]!;
      ok = !(byte === 0xe0 && second < 0xa0) && !(byte === 0xed && second > 0x9f);
    }
    if (ok && length === 4) {
      const second = data[index + 1]!;
      ok = !(byte === 0xf0 && second < 0x90) && !(byte === 0xf4 && second > 0x8f);
    }
    if (ok) index += length;
    else {
      invalid++;
      index++;
    }
  }
  return invalid;
}

/** The byte offsets where each line starts; a final newline starts no line. */
export function lineStarts(data: Uint8Array): number[] {
  const starts = data.length > 0 ? [0] : [];
  for (let index = 0; index < data.length; index++) {
    if (data[index] === 0x0a && index + 1 < data.length) starts.push(index + 1);
  }
  return starts;
}

/** Every offset where `needle` occurs in `haystack` (not overlapping). */
export function occurrences(haystack: Buffer, needle: Buffer): number[] {
  const found: number[] = [];
  if (needle.length === 0) return found;
  let from = 0;
  for (;;) {
    const at = haystack.indexOf(needle, from);
    if (at < 0) return found;
    found.push(at);
    from = at + needle.length;
  }
}

/** The 1-based line that holds byte `offset`. */
export function lineOfOffset(starts: readonly number[], offset: number): number {
  let low = 0;
  let high = starts.length - 1;
  while (low < high) {
    const middle = (low + high + 1) >> 1;
    if (starts[middle]! <= offset) low = middle;
    else high = middle - 1;
  }
  return low + 1;
}

/**
 * Text the model wrote, in the file's line-ending convention: in a CRLF file `\n` becomes
 * `\r\n` (lines the model sends with `\r\n` already stay as they are).
 */
export function inFileConvention(text: string, facts: ContentFacts): Buffer {
  const converted = facts.lineEndings === 'crlf' ? text.replace(/\r?\n/g, '\r\n') : text;
  return Buffer.from(converted, 'utf8');
}

/** A unified diff of two versions of a file; a short note instead when it would take too long. */
export function unifiedDiff(options: { path: string; before: string | null; after: string | null }): string {
  const before = options.before ?? '';
  const after = options.after ?? '';
  const patch = createTwoFilesPatch(
    options.before === null ? '/dev/null' : `a${options.path}`,
    options.after === null ? '/dev/null' : `b${options.path}`,
    before,
    after,
    undefined,
    undefined,
    { context: 3, timeout: DIFF_TIMEOUT_MS },
  );
  if (patch === undefined) {
    return `--- a${options.path}\n+++ b${options.path}\n(the change is too large to show as a diff: ${countLines(before)} lines before, ${countLines(after)} after)`;
  }
  // The first line of jsdiff's output is an `Index:`/`===` header; keep the git-like part.
  return patch
    .split('\n')
    .filter((line, index) => !(index < 2 && (line.startsWith('Index:') || line.startsWith('===='))))
    .join('\n')
    .replace(/\n$/, '');
}

function countLines(text: string): number {
  return text === '' ? 0 : text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
}
