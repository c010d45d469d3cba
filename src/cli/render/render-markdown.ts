import { stripVTControlCharacters } from 'node:util';
import type { Marked } from 'marked';

/** Narrowest width answers are wrapped to, however narrow the terminal says it is. */
const MIN_WIDTH = 40;

let loaded: Promise<(width: number) => Marked> | undefined;

/**
 * The parser and its terminal renderer, imported on first use only: a piped run (raw text) never
 * loads them. marked-terminal (chosen over cli-markdown and markdown-it-terminal, see
 * docs/benchmarks.md) with one fix: text inside tight list items is rendered inline (code,
 * bold), not printed with its backticks.
 */
function markedFor(): Promise<(width: number) => Marked> {
  loaded ??= (async () => {
    const [{ Marked }, { markedTerminal }, { Chalk }] = await Promise.all([
      import('marked'),
      import('marked-terminal'),
      import('chalk'),
    ]);
    // Styles from a chalk of our own, always on (removed afterwards for NO_COLOR): the layout must
    // not depend on what chalk guesses about process.stdout (marked-terminal renumbers the items
    // of a list nested in a numbered one when its styles are off).
    const chalk = new Chalk({ level: 1 });
    const styles = {
      code: chalk.yellow,
      blockquote: chalk.gray.italic,
      html: chalk.gray,
      heading: chalk.green.bold,
      firstHeading: chalk.magenta.underline.bold,
      hr: chalk.reset,
      listitem: chalk.reset,
      table: chalk.reset,
      paragraph: chalk.reset,
      strong: chalk.bold,
      em: chalk.italic,
      codespan: chalk.yellow,
      del: chalk.dim.gray.strikethrough,
      link: chalk.blue,
      href: chalk.blue.underline,
    };
    const byWidth = new Map<number, Marked>();
    return (width: number) => {
      let marked = byWidth.get(width);
      if (!marked) {
        marked = new Marked(
          markedTerminal({
            ...styles,
            width,
            reflowText: true,
            showSectionPrefix: false,
            tab: 2,
            emoji: false,
          }),
          {
            renderer: {
              text(token) {
                return 'tokens' in token && token.tokens ? this.parser.parseInline(token.tokens) : false;
              },
            },
          },
        );
        byWidth.set(width, marked);
      }
      return marked;
    };
  })();
  return loaded;
}

/** Renders an answer's Markdown for a terminal; see {@link loadMarkdownRenderer}. */
export type MarkdownRenderer = (text: string) => string;

/**
 * Loads the renderer (once) and returns a function that turns an answer's Markdown into
 * terminal text: headings, lists, code blocks and tables, wrapped to `width()` (read at each
 * call: the terminal may be resized). The text must already be safe to show (control characters
 * made visible): every escape sequence in the result is the renderer's own, and they are all
 * removed when `colors` is off (NO_COLOR), leaving the layout.
 */
export async function loadMarkdownRenderer(options: {
  width: () => number;
  colors: boolean;
}): Promise<MarkdownRenderer> {
  const markedAt = await markedFor();
  return (text) => {
    const rendered = markedAt(Math.max(MIN_WIDTH, options.width())).parse(text, { async: false });
    const plain = options.colors ? rendered : stripVTControlCharacters(rendered);
    return `${plain.replace(/\s+$/, '')}\n`;
  };
}
