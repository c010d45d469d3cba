import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';

/** What one stream of one command produced, as kept by an {@link OutputCollector}. */
export interface CollectedOutput {
  /** Head and tail decoded as UTF-8, with a notice line between them when the middle was cut. */
  text: string;
  /** Every byte the stream carried. */
  bytes: number;
  truncated: boolean;
  /** Path of the file holding the whole stream; set only when truncated. */
  spillFile?: string;
}

export interface OutputCollectorOptions {
  /** Bytes kept in memory: half from the start of the stream, half from its end. */
  limitBytes: number;
  /** Created (with its folder) only when the stream outgrows `limitBytes`. */
  spillFile: string;
}

/**
 * Keeps the head and tail of one output stream in memory and, once the stream outgrows the
 * limit, writes all of it to a spill file. Memory stays at about `limitBytes` whatever the
 * stream's size. Writes are synchronous so a fast producer cannot queue unbounded buffers.
 */
export class OutputCollector {
  readonly #headLimit: number;
  readonly #tailLimit: number;
  readonly #spillFile: string;
  #chunks: Buffer[] = [];
  #bufferedBytes = 0;
  #head: Buffer | undefined;
  #tail: Buffer[] = [];
  #tailBytes = 0;
  #bytes = 0;
  #spillFd: number | undefined;
  #spillError: string | undefined;

  constructor(options: OutputCollectorOptions) {
    this.#headLimit = Math.max(0, Math.floor(options.limitBytes / 2));
    this.#tailLimit = Math.max(0, options.limitBytes - this.#headLimit);
    this.#spillFile = options.spillFile;
  }

  write(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.#bytes += chunk.length;
    if (this.#head === undefined) {
      this.#chunks.push(chunk);
      this.#bufferedBytes += chunk.length;
      if (this.#bufferedBytes <= this.#headLimit + this.#tailLimit) return;
      this.#overflow();
      return;
    }
    this.#spill(chunk);
    this.#pushTail(chunk);
  }

  finish(): CollectedOutput {
    if (this.#spillFd !== undefined) {
      closeSync(this.#spillFd);
      this.#spillFd = undefined;
    }
    if (this.#head === undefined) {
      return { text: Buffer.concat(this.#chunks).toString('utf8'), bytes: this.#bytes, truncated: false };
    }
    const joined = Buffer.concat(this.#tail);
    const tail = joined.subarray(Math.max(0, joined.length - this.#tailLimit));
    const omitted = this.#bytes - this.#head.length - tail.length;
    const where = this.#spillError
      ? `the full output could not be saved: ${this.#spillError}`
      : `full output in ${this.#spillFile}`;
    const notice = `\n[... ${omitted} bytes omitted (${this.#bytes} in all); ${where} ...]\n`;
    return {
      text: this.#head.toString('utf8') + notice + tail.toString('utf8'),
      bytes: this.#bytes,
      truncated: true,
      ...(this.#spillError ? {} : { spillFile: this.#spillFile }),
    };
  }

  /** First time the stream outgrows the limit: everything so far is still in memory. */
  #overflow(): void {
    const all = Buffer.concat(this.#chunks);
    this.#chunks = [];
    this.#bufferedBytes = 0;
    this.#head = Buffer.from(all.subarray(0, this.#headLimit));
    try {
      mkdirSync(dirnameOf(this.#spillFile), { recursive: true, mode: 0o700 });
      this.#spillFd = openSync(this.#spillFile, 'w', 0o600);
    } catch (error) {
      this.#spillError = (error as Error).message;
    }
    this.#spill(all);
    this.#pushTail(all.subarray(this.#headLimit));
  }

  #spill(chunk: Buffer): void {
    if (this.#spillFd === undefined) return;
    try {
      let offset = 0;
      while (offset < chunk.length) offset += writeSync(this.#spillFd, chunk, offset);
    } catch (error) {
      this.#spillError = (error as Error).message;
      closeSync(this.#spillFd);
      this.#spillFd = undefined;
    }
  }

  #pushTail(chunk: Buffer): void {
    if (this.#tailLimit === 0) return;
    if (chunk.length >= this.#tailLimit) {
      this.#tail = [Buffer.from(chunk.subarray(chunk.length - this.#tailLimit))];
      this.#tailBytes = this.#tailLimit;
      return;
    }
    this.#tail.push(Buffer.from(chunk));
    this.#tailBytes += chunk.length;
    while (this.#tailBytes - this.#tail[0]!.length >= this.#tailLimit) {
      this.#tailBytes -= this.#tail.shift()!.length;
    }
  }
}

function dirnameOf(path: string): string {
  const index = path.lastIndexOf('/');
  return index <= 0 ? '/' : path.slice(0, index);
}
