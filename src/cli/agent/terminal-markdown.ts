import type { CliContext } from '../cli-context.js';
import { loadMarkdownRenderer, type MarkdownRenderer } from '../render/render-markdown.js';
import { colorsFor } from '../terminal/terminal-style.js';

/** Answers rendered as Markdown for the terminal stdout is, at its width, in colour unless NO_COLOR. */
export function terminalMarkdown(context: CliContext): Promise<MarkdownRenderer> {
  return loadMarkdownRenderer({
    width: () => context.stdout.columns || 80,
    colors: colorsFor(context.stdout, context.env).isColorSupported,
  });
}
