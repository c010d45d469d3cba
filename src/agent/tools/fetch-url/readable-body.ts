import type { compiledFunction } from 'html-to-text';
import { contentFacts } from '../file-editor/file-content.js';

/** HTML larger than this is cut before it is converted (the text would be cut anyway). */
const HTML_CONVERT_LIMIT_BYTES = 2 * 1024 * 1024;

/** A body as the model reads it. */
export interface ReadableBody {
  /** `html` converted to text, `json` pretty-printed, `text` as it came, `binary` not shown. */
  kind: 'html' | 'json' | 'text' | 'binary' | 'empty';
  text: string;
}

let htmlConverter: compiledFunction | undefined;

/** html-to-text, loaded on first use: most sessions never fetch a page. */
async function convertHtml(html: string): Promise<string> {
  if (!htmlConverter) {
    const { compile } = await import('html-to-text');
    const heading = (selector: string) => ({ selector, options: { uppercase: false } });
    htmlConverter = compile({
      wordwrap: false,
      selectors: [
        {
          selector: 'table',
          format: 'dataTable',
          options: { uppercaseHeaderCells: false, maxColumnWidth: 80 },
        },
        { selector: 'img', format: 'skip' },
        { selector: 'a', options: { hideLinkHrefIfSameAsText: true } },
        ...['h1', 'h2', 'h3', 'h4', 'h5', 'h6'].map(heading),
      ],
    });
  }
  return htmlConverter(html).trim();
}

/**
 * Turns a response body into readable text: HTML to text (scripts and styles dropped, tables kept
 * as columns), JSON pretty-printed, other text as it is in its charset; binary bodies are named,
 * not shown.
 */
export async function readableBody(body: Uint8Array, contentType: string | undefined): Promise<ReadableBody> {
  if (body.length === 0) return { kind: 'empty', text: '' };
  const type = (contentType ?? '').toLowerCase();
  const mime = type.split(';')[0]!.trim();
  const text = decode(body, /charset=\s*"?([\w.:-]+)/.exec(type)?.[1]);
  const looksJson = /^\s*[[{]/.test(text);
  if (mime === 'application/json' || mime.endsWith('+json') || (mime === '' && looksJson)) {
    try {
      return { kind: 'json', text: JSON.stringify(JSON.parse(text), null, 2) };
    } catch {
      // Not JSON after all (or cut): shown as text.
    }
  }
  const looksHtml = /^\s*(<!doctype html|<html[\s>])/i.test(text.slice(0, 1024));
  if (
    mime === 'text/html' ||
    mime === 'application/xhtml+xml' ||
    (looksHtml && !mime.startsWith('text/plain'))
  ) {
    const html = text.length > HTML_CONVERT_LIMIT_BYTES ? text.slice(0, HTML_CONVERT_LIMIT_BYTES) : text;
    return { kind: 'html', text: await convertHtml(html) };
  }
  const textual =
    mime.startsWith('text/') ||
    /(xml|javascript|yaml|x-www-form-urlencoded|csv|toml|x-sh|openmetrics)/.test(mime) ||
    !contentFacts(body).binary;
  if (!textual || contentFacts(body).binary) return { kind: 'binary', text: '' };
  return { kind: 'text', text };
}

function decode(body: Uint8Array, charset: string | undefined): string {
  if (charset) {
    try {
      return new TextDecoder(charset).decode(body);
    } catch {
      // An unknown charset label: UTF-8 is the best guess.
    }
  }
  return new TextDecoder('utf-8').decode(body);
}
