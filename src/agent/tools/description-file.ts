import { readFileSync } from 'node:fs';

/**
 * A tool's `description` kept in a Markdown file next to its code (`new URL('./x.md',
 * import.meta.url)`), read the first time the model needs it and kept: listing tools or running a
 * command that offers none never reads it.
 */
export function descriptionFile(url: URL): () => string {
  let text: string | undefined;
  return () => (text ??= readFileSync(url, 'utf8').trim());
}
