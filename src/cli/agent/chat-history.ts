import { appendFileSync, chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** Messages kept across chats for the up arrow; the oldest go first. */
const MAX_ENTRIES = 1000;

/**
 * The chat prompt's history in `<home>/chat-history`, one message a line, oldest first, mode
 * 0600 (what was typed may hold a secret). Multi-line messages are not kept. A file that cannot
 * be read or written costs the history, never the chat.
 */
export class ChatHistory {
  readonly #path: string;
  /** Newest first, as readline wants it. */
  readonly entries: string[];

  constructor(path: string) {
    this.#path = path;
    let lines: string[] = [];
    try {
      lines = readFileSync(path, 'utf8')
        .split('\n')
        .filter((line) => line.trim() !== '');
    } catch {
      // No history yet.
    }
    this.entries = [...new Set(lines.slice(-MAX_ENTRIES).reverse())];
  }

  /** Keeps a message the user sent (the prompt has already put it first in `entries`). */
  add(message: string): void {
    if (message.includes('\n') || message.trim() === '') return;
    try {
      mkdirSync(dirname(this.#path), { recursive: true, mode: 0o700 });
      if (this.entries.length >= MAX_ENTRIES * 2) {
        writeFileSync(this.#path, `${this.entries.slice(0, MAX_ENTRIES).reverse().join('\n')}\n`, {
          mode: 0o600,
        });
      } else {
        appendFileSync(this.#path, `${message}\n`, { mode: 0o600 });
      }
      chmodSync(this.#path, 0o600);
    } catch {
      // The history is a convenience: losing it must not end the chat.
    }
  }
}
