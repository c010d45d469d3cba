/**
 * The masker's working state: the text, and the spans found to be secret. Finders only add
 * spans; nothing is replaced until every finder ran, so each one reads the original text once
 * and the result does not depend on the order of the finders (overlapping spans are merged).
 */

/** One secret found in the text: `[start, end)` is replaced by a mask of `kind`. */
export interface MaskSpan {
  start: number;
  end: number;
  kind: string;
}

/** The mask that replaces a secret; `kind` tells the model what was there. */
export function mask(kind: string): string {
  return `[REDACTED:${kind}]`;
}

/** Text that is already a mask. */
export const MASKED = /^\[REDACTED:[^\]]*\]/;

/** Values that are placeholders or references, not secrets: leave them readable. */
const PLACEHOLDER =
  /^(?:|""|''|null|nil|none|<none>|~|true|false|\*+|x{3,}|X{3,}|redacted|changeme|<[^>]*>|\$\{[^}]*\}|\$[A-Za-z_][A-Za-z0-9_]*|\{\{[^}]*\}\}|\[REDACTED:.*)$/i;
/** A longer value is never a placeholder. */
const MAX_PLACEHOLDER_CHARS = 256;

/** A value that stays readable: a placeholder, a reference, or a mask already. */
export function isPlaceholder(value: string): boolean {
  if (MASKED.test(value) || MASKED.test(value.replace(/^["']/, ''))) return true;
  return value.length <= MAX_PLACEHOLDER_CHARS && PLACEHOLDER.test(value.trim());
}

/** Characters of a name: `[A-Za-z0-9_.-]`. */
const NAME_CHARS = new Uint8Array(128);
for (const char of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-')
  NAME_CHARS[char.charCodeAt(0)] = 1;

export function isNameChar(code: number): boolean {
  return code < 128 && NAME_CHARS[code] === 1;
}

/** `[A-Za-z0-9_]`. */
export function isWordChar(code: number): boolean {
  return (
    (code >= 48 && code <= 57) || (code >= 65 && code <= 90) || (code >= 97 && code <= 122) || code === 95
  );
}

/** Space, tab, line breaks and the other characters `\s` matches in ASCII. */
export function isSpace(code: number): boolean {
  return code === 32 || (code >= 9 && code <= 13);
}

/**
 * The line around a position, remembered: positions are asked for in increasing order, so each
 * line is measured once and a text of one long line stays linear.
 */
export class LineBounds {
  readonly #text: string;
  #start = 0;
  #end = -1;

  constructor(text: string) {
    this.#text = text;
  }

  /** Where the line holding `position` starts and ends (the end is the `\n` or the text's end). */
  around(position: number): { start: number; end: number } {
    if (position < this.#start || position > this.#end) {
      this.#start = this.#text.lastIndexOf('\n', position - 1) + 1;
      const newline = this.#text.indexOf('\n', position);
      this.#end = newline < 0 ? this.#text.length : newline;
    }
    return { start: this.#start, end: this.#end };
  }
}

/**
 * The first match of a regex at or after a position, remembered: asked with increasing
 * positions, the text is searched once in all, however many times it is asked.
 */
export class NextMatch {
  readonly #text: string;
  readonly #regex: RegExp;
  #searchedFrom = Number.POSITIVE_INFINITY;
  #found = -1;
  #length = 0;

  constructor(text: string, regex: RegExp) {
    if (!regex.global) throw new Error('NextMatch needs a global regex');
    this.#text = text;
    this.#regex = regex;
  }

  /** Where the next match at or after `from` starts, or -1. */
  next(from: number): number {
    if (!(this.#searchedFrom <= from && (this.#found < 0 || this.#found >= from))) {
      this.#regex.lastIndex = from;
      const match = this.#regex.exec(this.#text);
      this.#searchedFrom = from;
      this.#found = match ? match.index : -1;
      this.#length = match ? match[0].length : 0;
    }
    return this.#found;
  }

  /** The length of the match {@link next} returned last. */
  get length(): number {
    return this.#length;
  }
}

/** Runs a sticky regex (flags `dy`) at one position. */
export function matchAt(regex: RegExp, text: string, at: number): RegExpExecArray | null {
  regex.lastIndex = at;
  return regex.exec(text);
}

/** Where the masker is, for passes that yield to the event loop on long texts. */
export type Progress = Generator<undefined, void, undefined>;

/** Characters a pass goes through between two chances to yield. */
export const YIELD_EVERY_CHARS = 128 * 1024;

export class MaskScan {
  readonly text: string;
  readonly #spans: MaskSpan[] = [];

  constructor(text: string) {
    this.text = text;
  }

  /** Marks `[start, end)` as a secret. */
  add(start: number, end: number, kind: string): void {
    if (end > start) this.#spans.push({ start, end, kind });
  }

  /** Marks a value as a secret unless it is a placeholder; true when it was marked. */
  addValue(start: number, end: number, kind: string): boolean {
    if (end <= start || isPlaceholder(this.text.slice(start, end))) return false;
    this.#spans.push({ start, end, kind });
    return true;
  }

  /** The spans found so far, in start order (for finders that skip what is already masked). */
  sortedSpans(): MaskSpan[] {
    const spans = this.#spans;
    let sorted = true;
    for (let index = 1; index < spans.length && sorted; index++) {
      const previous = spans[index - 1]!;
      const span = spans[index]!;
      sorted = previous.start < span.start || (previous.start === span.start && previous.end >= span.end);
    }
    // Finders add spans in order, so the sort is mostly skipped; it is stable, so of spans
    // equal in place the one found first wins.
    return sorted ? spans.slice() : spans.slice().sort((a, b) => a.start - b.start || b.end - a.end);
  }

  /**
   * The text with every span masked. Overlapping spans become one mask, of the kind of the one
   * that starts first (the longest of those). With `keepLineCount`, a mask is followed by the
   * line breaks it covered, so line numbers stay right.
   */
  result(keepLineCount: boolean): { text: string; count: number } {
    if (this.#spans.length === 0) return { text: this.text, count: 0 };
    const spans = this.sortedSpans();
    let text = '';
    let cursor = 0;
    let count = 0;
    let index = 0;
    while (index < spans.length) {
      const first = spans[index]!;
      let end = first.end;
      index++;
      while (index < spans.length && spans[index]!.start < end) {
        end = Math.max(end, spans[index]!.end);
        index++;
      }
      text += this.text.slice(cursor, first.start) + mask(first.kind);
      if (keepLineCount) text += this.text.slice(first.start, end).replace(/[^\n]+/g, '');
      cursor = end;
      count++;
    }
    text += this.text.slice(cursor);
    return { text, count };
  }
}
