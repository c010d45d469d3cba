import { Lexer, type Token, type Tokens } from 'marked';

/** One piece of a document, as it is stored and retrieved. */
export interface DocumentChunk {
  /** The document's title: its first level-1 heading, else the file name. */
  title: string;
  /** Headings above the chunk, outermost first (`['Payments DB', 'Failover']`); empty for none. */
  headingPath: string[];
  /** First and last line of the chunk in the file, 1-based and inclusive. */
  startLine: number;
  endLine: number;
  /** The chunk's text as written in the file (Markdown stays Markdown). */
  content: string;
}

/** Limits of {@link chunkDocument}, in characters. */
export interface ChunkLimits {
  /** A chunk grows past this only to keep a code block, a table or one paragraph whole. */
  maxChars: number;
  /** Up to this much of the end of a cut section starts the next piece again. */
  overlapChars: number;
  /** YAML, JSON and config files up to this size are one chunk. */
  wholeFileChars: number;
}

export const DEFAULT_CHUNK_LIMITS: ChunkLimits = {
  maxChars: 2_000,
  overlapChars: 300,
  wholeFileChars: 8_000,
};

export type DocumentKind = 'markdown' | 'text' | 'config';

const MARKDOWN = /\.(md|markdown|mdx)$/i;
const CONFIG = /\.(ya?ml|json|toml|ini|conf|cfg|properties|env)$/i;

/** How a file is chunked, from its name. */
export function documentKind(path: string): DocumentKind {
  if (MARKDOWN.test(path)) return 'markdown';
  if (CONFIG.test(path)) return 'config';
  return 'text';
}

/** A block of the document: text and where it is, with whether it may be cut. */
interface Block {
  text: string;
  startLine: number;
  endLine: number;
  /** Code blocks and tables are never cut, nor separated from each other's lines. */
  atomic: boolean;
}

/**
 * Splits a document into chunks that keep their meaning: Markdown by headings (each chunk keeps
 * its heading path and line range), code blocks and tables never split, long sections cut at
 * block boundaries with overlap; plain text by paragraphs; small config files whole.
 */
export function chunkDocument(options: {
  path: string;
  text: string;
  limits?: ChunkLimits;
}): DocumentChunk[] {
  const limits = options.limits ?? DEFAULT_CHUNK_LIMITS;
  const text = options.text.replace(/\r\n?/g, '\n');
  const fileName = options.path.split('/').pop() ?? options.path;
  const kind = documentKind(options.path);
  if (text.trim() === '') return [];
  const lines = text.split('\n');
  const withText = (pieces: Array<Pick<DocumentChunk, 'startLine' | 'endLine'>>) =>
    pieces.map((piece) => ({
      startLine: piece.startLine,
      endLine: piece.endLine,
      content: lines.slice(piece.startLine - 1, piece.endLine).join('\n'),
    }));
  if (kind === 'markdown') {
    return chunkMarkdown(text, fileName, limits).map((chunk) => ({ ...chunk, ...withText([chunk])[0]! }));
  }
  if (kind === 'config' && text.length <= limits.wholeFileChars) {
    return [
      { title: fileName, headingPath: [], startLine: 1, endLine: lineCount(text), content: text.trimEnd() },
    ];
  }
  const blocks = kind === 'config' ? lineBlocks(text, limits.maxChars) : paragraphBlocks(text);
  return withText(packBlocks(blocks, limits)).map((piece) => ({
    title: fileName,
    headingPath: [],
    ...piece,
  }));
}

function lineCount(text: string): number {
  const trimmed = text.replace(/\n+$/, '');
  return trimmed === '' ? 1 : trimmed.split('\n').length;
}

function newlines(text: string): number {
  let count = 0;
  for (let index = text.indexOf('\n'); index >= 0; index = text.indexOf('\n', index + 1)) count++;
  return count;
}

/** A block spanning `raw` that starts on `line`, with trailing blank lines left out of its range. */
function blockAt(raw: string, line: number, atomic: boolean): Block {
  const text = raw.replace(/\n+$/, '');
  return { text, startLine: line, endLine: line + newlines(text), atomic };
}

function chunkMarkdown(text: string, fileName: string, limits: ChunkLimits): DocumentChunk[] {
  // Block tokens only: chunking needs no inline tokens, and lexing them triples the time.
  const tokens = new Lexer().blockTokens(text, []);
  const chunks: DocumentChunk[] = [];
  const headings: Array<{ depth: number; text: string }> = [];
  let title: string | undefined;
  let section: { path: string[]; blocks: Block[] } = { path: [], blocks: [] };
  const flush = (): void => {
    if (section.blocks.some((block) => block.text.trim() !== '' && !/^#{1,6}\s/.test(block.text))) {
      for (const piece of packBlocks(section.blocks, limits)) {
        chunks.push({ title: title ?? fileName, headingPath: section.path, ...piece });
      }
    }
  };
  let line = 1;
  for (const token of tokens) {
    const startLine = line;
    line += newlines(token.raw);
    if (token.type === 'space') continue;
    if (token.type === 'heading') {
      flush();
      const heading = token as Tokens.Heading;
      const name = plainText(heading.text);
      if (heading.depth === 1 && title === undefined) title = name;
      while (headings.length > 0 && headings[headings.length - 1]!.depth >= heading.depth) headings.pop();
      headings.push({ depth: heading.depth, text: name });
      section = { path: headings.map((entry) => entry.text), blocks: [blockAt(token.raw, startLine, false)] };
      continue;
    }
    section.blocks.push(...markdownBlocks(token, startLine, limits.maxChars));
  }
  flush();
  return chunks;
}

/** A top-level token as blocks: a long list by items, a long paragraph by lines, the rest whole. */
function markdownBlocks(token: Token, startLine: number, maxChars: number): Block[] {
  if (token.type === 'code' || token.type === 'table' || token.type === 'html') {
    return [blockAt(token.raw, startLine, true)];
  }
  if (token.raw.length <= maxChars) return [blockAt(token.raw, startLine, false)];
  if (token.type === 'list') {
    const blocks: Block[] = [];
    let line = startLine;
    for (const item of (token as Tokens.List).items) {
      // An item with a code block in it stays whole, as the code block would.
      blocks.push(blockAt(item.raw, line, /```|~~~/.test(item.raw)));
      line += newlines(item.raw);
    }
    return blocks;
  }
  if (token.type === 'paragraph' || token.type === 'blockquote')
    return lineBlocks(token.raw, maxChars, startLine);
  return [blockAt(token.raw, startLine, true)];
}

/** Consecutive lines grouped up to `maxChars`, starting at `startLine`. */
function lineBlocks(text: string, maxChars: number, startLine = 1): Block[] {
  const blocks: Block[] = [];
  let lines: string[] = [];
  let size = 0;
  let first = startLine;
  let line = startLine;
  for (const current of text.replace(/\n+$/, '').split('\n')) {
    if (size + current.length > maxChars && lines.length > 0) {
      blocks.push({ text: lines.join('\n'), startLine: first, endLine: line - 1, atomic: false });
      lines = [];
      size = 0;
      first = line;
    }
    lines.push(current);
    size += current.length + 1;
    line++;
  }
  if (lines.length > 0)
    blocks.push({ text: lines.join('\n'), startLine: first, endLine: line - 1, atomic: false });
  return blocks;
}

/** Paragraphs of plain text (blank-line separated), each with its lines. */
function paragraphBlocks(text: string): Block[] {
  const blocks: Block[] = [];
  const lines = text.split('\n');
  let start = -1;
  for (let index = 0; index <= lines.length; index++) {
    const blank = index === lines.length || lines[index]!.trim() === '';
    if (!blank && start < 0) start = index;
    if (blank && start >= 0) {
      blocks.push({
        text: lines.slice(start, index).join('\n'),
        startLine: start + 1,
        endLine: index,
        atomic: false,
      });
      start = -1;
    }
  }
  return blocks.flatMap((block) =>
    block.text.length > DEFAULT_CHUNK_LIMITS.maxChars * 2
      ? lineBlocks(block.text, DEFAULT_CHUNK_LIMITS.maxChars, block.startLine)
      : [block],
  );
}

/**
 * Packs blocks into pieces of at most `maxChars` (a single block may be larger: it is never cut
 * here). Each piece after the first starts with the previous piece's last blocks, up to
 * `overlapChars`, so a step cut from its context is still found with it.
 */
function packBlocks(
  blocks: readonly Block[],
  limits: ChunkLimits,
): Array<Pick<DocumentChunk, 'startLine' | 'endLine' | 'content'>> {
  const pieces: Block[][] = [];
  let current: Block[] = [];
  let size = 0;
  for (const block of blocks) {
    if (current.length > 0 && size + block.text.length > limits.maxChars) {
      pieces.push(current);
      const overlap: Block[] = [];
      let overlapSize = 0;
      for (let index = current.length - 1; index > 0; index--) {
        const previous = current[index]!;
        if (overlapSize + previous.text.length > limits.overlapChars) break;
        overlap.unshift(previous);
        overlapSize += previous.text.length;
      }
      current = overlap;
      size = overlapSize;
    }
    current.push(block);
    size += block.text.length + 2;
  }
  if (current.length > 0) pieces.push(current);
  return pieces.map((piece) => ({
    startLine: piece[0]!.startLine,
    endLine: piece[piece.length - 1]!.endLine,
    content: piece.map((block) => block.text).join('\n\n'),
  }));
}

/** Heading text without Markdown marks (`**`, backticks, links). */
function plainText(markdown: string): string {
  return markdown
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/[*_`~]/g, '')
    .trim();
}
