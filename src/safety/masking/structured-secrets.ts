/**
 * Secrets that span lines or depend on the document around them: PEM private keys, the data of a
 * Kubernetes Secret, YAML block scalars under a secret-named key, PuTTY keys, and .pgpass lines.
 */
import { isSecretNameCached } from './secret-names.js';
import { isPlaceholder, MASKED, type MaskScan, type Progress, YIELD_EVERY_CHARS } from './mask-scan.js';

const PEM_BEGIN = /-----BEGIN (?:[A-Z0-9]+ ){0,4}PRIVATE KEY(?: BLOCK)?-----/y;
const PEM_END = /-----END (?:[A-Z0-9]+ ){0,4}PRIVATE KEY(?: BLOCK)?-----/y;
const MAX_KEY_CHARS = 65_536;
const BASE64_LINE = /^[A-Za-z0-9+/=]{4,100}$/;

/** PEM private keys (also JSON-escaped, and with their start or end cut off), found with indexOf. */
export function* findPrivateKeys(scan: MaskScan): Progress {
  const text = scan.text;
  if (!text.includes('PRIVATE KEY')) return;
  // The next end marker for each label, so a text of many starts and no end stays linear.
  const nextEnd = new Map<string, number>();
  const findEnd = (label: string, from: number): number => {
    const known = nextEnd.get(label);
    if (known !== undefined && (known < 0 || known >= from)) return known;
    const found = text.indexOf(`-----END ${label}PRIVATE KEY`, from);
    nextEnd.set(label, found);
    return found;
  };
  let search = 0;
  let covered = 0;
  let nextBegin = -2;
  let nextEndMarker = -2;
  let yieldAt = YIELD_EVERY_CHARS;
  for (;;) {
    if (search >= yieldAt) {
      yieldAt = search + YIELD_EVERY_CHARS;
      yield;
    }
    // Each marker is searched for again only once the search has passed it: linear overall.
    if (nextBegin !== -1 && nextBegin < search) nextBegin = text.indexOf('-----BEGIN ', search);
    if (nextEndMarker !== -1 && nextEndMarker < search) nextEndMarker = text.indexOf('-----END ', search);
    const begin = nextBegin;
    const end = nextEndMarker;
    if (begin < 0 && end < 0) break;
    if (begin >= 0 && (end < 0 || begin < end)) {
      // `test` and `slice` rather than `exec`: no match arrays for a text of many markers.
      PEM_BEGIN.lastIndex = begin;
      if (!PEM_BEGIN.test(text)) {
        search = begin + 11;
        continue;
      }
      const bodyStart = PEM_BEGIN.lastIndex;
      const label = text.slice(begin + 11, text.indexOf('PRIVATE KEY', begin + 11));
      const endAt = findEnd(label, bodyStart);
      if (endAt >= 0 && endAt - bodyStart <= MAX_KEY_CHARS) {
        scan.add(bodyStart, endAt, 'private-key');
        covered = endAt;
        search = endAt + 9;
        continue;
      }
      // The end was cut off: mask the key lines that follow.
      const stop = keyLinesForward(text, bodyStart);
      scan.add(bodyStart, stop, 'private-key');
      covered = stop;
      search = Math.max(stop, bodyStart);
      continue;
    }
    PEM_END.lastIndex = end;
    if (!PEM_END.test(text) || end < covered) {
      search = end + 9;
      continue;
    }
    // An end with no start (the start was cut off): mask the key lines before it.
    const start = keyLinesBackward(text, end, covered);
    if (start < end) {
      scan.add(start, end, 'private-key');
      covered = end;
    }
    search = end + 9;
  }
}

/** A line of a key's body: base64, a header (`Proc-Type: 4,ENCRYPTED`), or empty. */
const KEY_LINE_AT = /(?:[A-Za-z0-9+/=]{1,100}|[A-Za-z-]{1,40}: [^\n]{0,200}|)(?=\r?\n|\r?$)/y;

/** Where the key lines after a key's start end (JSON-escaped keys run to the closing quote). */
function keyLinesForward(text: string, from: number): number {
  const newline = text.indexOf('\n', from);
  const firstEnd = newline < 0 ? text.length : newline;
  if (text.slice(from, Math.min(firstEnd, from + 1024)).includes('\\n')) {
    const quote = /["\s]/.exec(text.slice(from, from + MAX_KEY_CHARS));
    return quote ? from + quote.index : Math.min(text.length, from + MAX_KEY_CHARS);
  }
  let end = text[firstEnd - 1] === '\r' ? firstEnd - 1 : firstEnd;
  let position = firstEnd + 1;
  while (position < text.length && position - from < MAX_KEY_CHARS) {
    KEY_LINE_AT.lastIndex = position;
    if (!KEY_LINE_AT.test(text)) break;
    end = KEY_LINE_AT.lastIndex;
    const next = text.indexOf('\n', end);
    if (next < 0) break;
    position = next + 1;
  }
  return end;
}

/** Where the key lines before a key's end start (not before `floor`). */
function keyLinesBackward(text: string, end: number, floor: number): number {
  const lineStart = Math.max(floor, text.lastIndexOf('\n', end - 1) + 1);
  const before = text.slice(Math.max(lineStart, end - MAX_KEY_CHARS), end);
  if (before.includes('\\n')) {
    const quote = Math.max(before.lastIndexOf('"'), before.lastIndexOf(' '));
    return end - before.length + quote + 1;
  }
  if (before.trim() !== '' && !/^[A-Za-z0-9+/=]{1,100}$/.test(before)) return end;
  let start = lineStart;
  while (start > floor && end - start < MAX_KEY_CHARS) {
    const previousStart = text.lastIndexOf('\n', start - 2) + 1;
    if (previousStart < floor || previousStart >= start) break;
    const line = text.slice(previousStart, Math.min(start - 1, previousStart + 128)).replace(/\r$/, '');
    if (!BASE64_LINE.test(line) || start - 1 - previousStart > 101) break;
    start = previousStart;
  }
  return start;
}

/** PuTTY key files: `Private-Lines: N` and the N lines after it. */
const PUTTY_PRIVATE = /^Private-Lines:[ \t]*(\d{1,4})[ \t]*\r?$/gm;

export function* findPuttyKeys(scan: MaskScan): Progress {
  const text = scan.text;
  if (!text.includes('Private-Lines:')) return;
  PUTTY_PRIVATE.lastIndex = 0;
  let match: RegExpExecArray | null;
  while ((match = PUTTY_PRIVATE.exec(text)) !== null) {
    const start = match.index + match[0].length + 1;
    let end = start;
    for (let line = 0; line < Number(match[1]) && end < text.length; line++) {
      const newline = text.indexOf('\n', end);
      end = newline < 0 ? text.length : newline + 1;
    }
    scan.add(start, end > start && text[end - 1] === '\n' ? end - 1 : end, 'private-key');
    PUTTY_PRIVATE.lastIndex = Math.max(PUTTY_PRIVATE.lastIndex, end);
  }
  yield;
}

const BLOCK_HEADER = new RegExp(
  String.raw`([ \t]{0,64})(?:- )?(["']?)([A-Za-z_][A-Za-z0-9_.-]{0,127})\2[ \t]*:[ \t]*[|>][-+]?\d?[ \t]*\r?$`,
  'my',
);
const BLOCK_INDICATOR = /:[ \t]*[|>]/g;

/** `password: |` and `key: >-`: a YAML block scalar under a secret name; mask its more-indented lines. */
export function* findBlockScalars(scan: MaskScan): Progress {
  const text = scan.text;
  BLOCK_INDICATOR.lastIndex = 0;
  let covered = 0;
  let match: RegExpExecArray | null;
  while ((match = BLOCK_INDICATOR.exec(text)) !== null) {
    if (match.index < covered) continue;
    const lineStart = text.lastIndexOf('\n', match.index) + 1;
    if (match.index - lineStart > 256) continue;
    BLOCK_HEADER.lastIndex = lineStart;
    const header = BLOCK_HEADER.exec(text);
    if (!header || !isSecretNameCached(header[3] ?? '')) continue;
    const indent = (header[1] ?? '').length;
    const lineEnd = lineStart + header[0].length - (header[0].endsWith('\r') ? 1 : 0);
    let position = lineStart + header[0].length;
    while (position < text.length && text[position] === '\n') {
      const next = text.indexOf('\n', position + 1);
      const stop = next < 0 ? text.length : next;
      let lineIndent = position + 1;
      while (lineIndent < stop && (text[lineIndent] === ' ' || text[lineIndent] === '\t')) lineIndent++;
      const blank = lineIndent === stop || (lineIndent === stop - 1 && text[lineIndent] === '\r');
      if (!blank && lineIndent - position - 1 <= indent) break;
      position = stop;
    }
    if (position > lineEnd) {
      scan.add(lineEnd, position, 'secret-value');
      covered = position;
    }
    BLOCK_INDICATOR.lastIndex = Math.max(BLOCK_INDICATOR.lastIndex, position);
  }
  yield;
}

const KIND_SECRET = /kind["']?[ \t]*:[ \t]*["']?Secret\b/g;
const DOCUMENT_SEPARATOR = /\n---[ \t]*\r?(?=\n|$)/g;

/**
 * The `data:` and `stringData:` values of a Kubernetes Secret (YAML or JSON). A value that
 * decodes to a certificate is public and stays; every other value is masked. A ConfigMap has no
 * such block in a Secret's document, so it stays readable.
 */
export function* findSecretData(scan: MaskScan): Progress {
  const text = scan.text;
  KIND_SECRET.lastIndex = 0;
  let done = 0;
  let match: RegExpExecArray | null;
  while ((match = KIND_SECRET.exec(text)) !== null) {
    if (match.index < done) continue;
    // The YAML document around it: from the separator before to the one after.
    const before = text.lastIndexOf('\n---', match.index);
    const start = Math.max(done, before < 0 ? 0 : before + 1);
    DOCUMENT_SEPARATOR.lastIndex = match.index;
    const after = DOCUMENT_SEPARATOR.exec(text);
    const end = after ? after.index : text.length;
    findYamlData(scan, start, end);
    findJsonData(scan, start, end);
    done = end;
    const resume = Math.max(KIND_SECRET.lastIndex, end);
    yield;
    KIND_SECRET.lastIndex = resume;
  }
}

function decodesToCertificate(value: string): boolean {
  const clean = value.trim().replace(/^["']|["']$/g, '');
  if (clean.startsWith('-----BEGIN CERTIFICATE')) return true;
  return Buffer.from(clean.slice(0, 64), 'base64').toString('latin1').startsWith('-----BEGIN CERTIFICATE');
}

const DATA_HEADER = /^[ \t]*(?:data|stringData):[ \t]*\r?$/gm;
const DATA_ENTRY = /^([ \t]+["']?[A-Za-z0-9_.-]{1,253}["']?[ \t]*:[ \t]*)(\S.*?)\r?$/s;

/** The entries under each `data:` header of the document (the lines more indented than it). */
function findYamlData(scan: MaskScan, start: number, end: number): void {
  const text = scan.text;
  DATA_HEADER.lastIndex = start;
  let header: RegExpExecArray | null;
  while ((header = DATA_HEADER.exec(text)) !== null && header.index < end) {
    const dataIndent = header[0].length - header[0].trimStart().length;
    let position = header.index + header[0].length + 1;
    while (position < end) {
      const newline = text.indexOf('\n', position);
      const stop = newline < 0 || newline > end ? end : newline;
      const line = text.slice(position, stop);
      const lineStart = position;
      position = stop + 1;
      const indent = line.length - line.trimStart().length;
      if (line.trim() !== '' && indent <= dataIndent) break;
      const entry = DATA_ENTRY.exec(line);
      if (!entry) continue;
      const value = entry[2]!;
      if (isPlaceholder(value) || decodesToCertificate(value) || /^[|>]/.test(value)) continue;
      const valueStart = lineStart + entry[1]!.length;
      scan.add(valueStart, valueStart + value.length, 'secret-data');
    }
    DATA_HEADER.lastIndex = Math.max(DATA_HEADER.lastIndex, position - 1);
  }
}

const JSON_DATA = /"(?:data|stringData)"[ \t]*:[ \t]*\{([^{}]{0,1048576})\}/dg;
const JSON_ENTRY = /"[^"\n]{1,253}"[ \t]*:[ \t]*"([^"\n]{0,1048576})"/dg;

function findJsonData(scan: MaskScan, start: number, end: number): void {
  const document = scan.text.slice(start, end);
  if (!document.includes('"data"') && !document.includes('"stringData"')) return;
  JSON_DATA.lastIndex = 0;
  let block: RegExpExecArray | null;
  while ((block = JSON_DATA.exec(document)) !== null) {
    const [bodyStart] = block.indices![1]!;
    const body = block[1]!;
    JSON_ENTRY.lastIndex = 0;
    let entry: RegExpExecArray | null;
    while ((entry = JSON_ENTRY.exec(body)) !== null) {
      const value = entry[1]!;
      if (value === '' || isPlaceholder(value) || MASKED.test(value) || decodesToCertificate(value)) continue;
      const [valueStart, valueEnd] = entry.indices![1]!;
      scan.add(start + bodyStart + valueStart, start + bodyStart + valueEnd, 'secret-data');
    }
  }
}

/** .pgpass: `host:port:database:user:password`. */
const PGPASS =
  /^([A-Za-z0-9.-]{1,253}|\*|\[[0-9a-fA-F:]{2,45}\]):(\d{1,5}|\*):[^:\s]{1,256}:[^:\s]{1,256}:([^\n]{1,1024})$/dgm;

export function* findPgpassLines(scan: MaskScan): Progress {
  const text = scan.text;
  PGPASS.lastIndex = 0;
  let yieldAt = YIELD_EVERY_CHARS;
  let match: RegExpExecArray | null;
  while ((match = PGPASS.exec(text)) !== null) {
    // A host name, an address or `*`; not a number (`12:30:...` is a time).
    // With `*` for the port, a plain word first is more likely a shadow line (`root:*:19000:...`).
    const host = match[1]!;
    if (!/[A-Za-z.*[]/.test(host) || (match[2] === '*' && !/^(?:\*|localhost|\[.*|.*\..*)$/.test(host)))
      continue;
    const [start, end] = match.indices![3]!;
    scan.addValue(start, text[end - 1] === '\r' ? end - 1 : end, 'pgpass-password');
    if (PGPASS.lastIndex >= yieldAt) {
      yieldAt = PGPASS.lastIndex + YIELD_EVERY_CHARS;
      const resume = PGPASS.lastIndex;
      yield;
      PGPASS.lastIndex = resume;
    }
  }
}
