/** Bytes of earlier file versions kept for undo in one session; the oldest go first. */
export const HISTORY_LIMIT_BYTES = 64 * 1024 * 1024;

/** One change the file tool made: what the file held before, and the digest it had after. */
export interface FileChange {
  /** The content before the change; null when the change created the file. */
  before: Buffer | null;
  /** SHA-256 of the content the change left; null when it removed the file. */
  after: string | null;
  /** `replace`, `insert`... for messages. */
  what: string;
}

/**
 * What one session's file tool knows about the target's files, on the opsmate side: the digest of
 * each file as the model last saw it (to refuse edits of files that changed since), and the
 * changes it made (for undo). Keys name the runtime and target as well as the path, so the same
 * path on another target is another file.
 */
export class FileHistory {
  readonly #seen = new Map<string, string>();
  readonly #changes = new Map<string, FileChange[]>();
  #bytes = 0;
  /** Changes dropped to stay under the limit, so undo can say why it has nothing. */
  readonly #dropped = new Set<string>();

  /** The file's digest when the model last saw all of it (a view, or a change it made). */
  seen(key: string): string | undefined {
    return this.#seen.get(key);
  }

  markSeen(key: string, digest: string | undefined): void {
    if (digest === undefined) this.#seen.delete(key);
    else this.#seen.set(key, digest);
  }

  record(key: string, change: FileChange): void {
    const list = this.#changes.get(key) ?? [];
    list.push(change);
    this.#changes.set(key, list);
    this.#bytes += change.before?.length ?? 0;
    this.#dropped.delete(key);
    this.#trim();
  }

  last(key: string): FileChange | undefined {
    const list = this.#changes.get(key);
    return list?.[list.length - 1];
  }

  /** Whether changes of this file were forgotten to keep memory bounded. */
  forgot(key: string): boolean {
    return this.#dropped.has(key);
  }

  pop(key: string): void {
    const list = this.#changes.get(key);
    const change = list?.pop();
    if (change) this.#bytes -= change.before?.length ?? 0;
    if (list && list.length === 0) this.#changes.delete(key);
  }

  #trim(): void {
    while (this.#bytes > HISTORY_LIMIT_BYTES) {
      // Map order is insertion order: the file changed longest ago loses its oldest version first.
      const [key, list] = this.#changes.entries().next().value as [string, FileChange[]];
      const oldest = list.shift();
      this.#bytes -= oldest?.before?.length ?? 0;
      this.#dropped.add(key);
      if (list.length === 0) this.#changes.delete(key);
    }
  }
}

const histories = new WeakMap<object, FileHistory>();

/** The history of one session, kept with its tool context (one context per session). */
export function fileHistoryOf(session: object): FileHistory {
  let history = histories.get(session);
  if (!history) {
    history = new FileHistory();
    histories.set(session, history);
  }
  return history;
}
