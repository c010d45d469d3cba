import { closeSync, mkdirSync, openSync, rmSync, writeSync } from 'node:fs';

/** Default cap of one spill file: enough for any log a person pages through, safe for a laptop. */
export const DEFAULT_SPILL_LIMIT_BYTES = 1024 * 1024 * 1024;

/** What one stream of one command produced, as kept by an {@link OutputCollector}. */
export interface CollectedOutput {
  /** Head and tail decoded as UTF-8, with a notice line between them when the middle was cut. */
  text: string;
  /** Every byte the stream carried. */
  bytes: number;
  truncated: boolean;
  /** Path of the file holding the stream; set only when truncated and a file was written. */
  spillFile?: string;
  /**
   * Why the spill file holds only the start of the stream (its cap was reached, the disk filled
   * up), when it does. The text's notice says the same.
   */
  spillIncomplete?: string;
}

export interface OutputCollectorOptions {
  /** Bytes kept in memory: half from the start of the stream, half from its end. */
  limitBytes: number;
  /** Created (with its folder) only when the stream outgrows `limitBytes`. */
  spillFile: string;
  /**
   * Most bytes written to the spill file; after that writing stops and the result says so.
   * 0 means no spill file at all (the caller showed the output live). Default 1 GiB.
   */
  spillLimitBytes?: number;
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
  readonly #spillLimit: number;
  #spilledBytes = 0;
  #spillStopped: string | undefined;
  #chunks: Buffer[] = [];
  #bufferedBytes = 0;
  #head: Buffer | undefined;
  /** The last bytes after the head, in a ring allocated once: no copy is kept per chunk. */
  #ring: Buffer | undefined;
  #ringEnd = 0;
  #ringFilled = 0;
  #bytes = 0;
  #spillFd: number | undefined;
  #spillError: string | undefined;

  constructor(options: OutputCollectorOptions) {
    this.#headLimit = Math.max(0, Math.floor(options.limitBytes / 2));
    this.#tailLimit = Math.max(0, options.limitBytes - this.#headLimit);
    this.#spillFile = options.spillFile;
    this.#spillLimit = options.spillLimitBytes ?? DEFAULT_SPILL_LIMIT_BYTES;
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
    this.#closeSpill();
    if (this.#head === undefined) {
      return { text: Buffer.concat(this.#chunks).toString('utf8'), bytes: this.#bytes, truncated: false };
    }
    const tail = this.#tailBytes();
    const omitted = this.#bytes - this.#head.length - tail.length;
    const saved = this.#spillError === undefined && this.#spilledBytes > 0;
    let where: string;
    if (this.#spillLimit === 0) where = 'the full output was shown live and not kept';
    else if (!saved) where = `the full output could not be saved: ${this.#spillError ?? 'nothing written'}`;
    else if (this.#spillStopped) {
      where = `the first ${this.#spilledBytes} bytes are in ${this.#spillFile} (${this.#spillStopped})`;
    } else where = `full output in ${this.#spillFile}`;
    const notice = `\n[... ${omitted} bytes omitted (${this.#bytes} in all); ${where} ...]\n`;
    return {
      text: this.#head.toString('utf8') + notice + tail.toString('utf8'),
      bytes: this.#bytes,
      truncated: true,
      ...(saved ? { spillFile: this.#spillFile } : {}),
      ...(saved && this.#spillStopped ? { spillIncomplete: this.#spillStopped } : {}),
    };
  }

  /** First time the stream outgrows the limit: everything so far is still in memory. */
  #overflow(): void {
    const all = Buffer.concat(this.#chunks);
    this.#chunks = [];
    this.#bufferedBytes = 0;
    this.#head = Buffer.from(all.subarray(0, this.#headLimit));
    if (this.#spillLimit > 0) this.#openSpill();
    this.#spill(all);
    this.#pushTail(all.subarray(this.#headLimit));
  }

  #openSpill(): void {
    try {
      mkdirSync(dirnameOf(this.#spillFile), { recursive: true, mode: 0o700 });
      this.#spillFd = openSync(this.#spillFile, 'w', 0o600);
    } catch (error) {
      this.#spillError = (error as Error).message;
    }
  }

  #spill(chunk: Buffer): void {
    if (this.#spillFd === undefined) return;
    const room = this.#spillLimit - this.#spilledBytes;
    const part = chunk.length > room ? chunk.subarray(0, room) : chunk;
    try {
      let offset = 0;
      while (offset < part.length) {
        const written = writeSync(this.#spillFd, part, offset);
        offset += written;
        this.#spilledBytes += written;
      }
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // A full disk leaves a partial file: keep it and say how much it holds.
      this.#closeSpill();
      if (this.#spilledBytes > 0) this.#spillStopped = `writing stopped: ${code ?? (error as Error).message}`;
      else {
        this.#spillError = (error as Error).message;
        rmSync(this.#spillFile, { force: true });
      }
      return;
    }
    if (part.length < chunk.length) {
      this.#spillStopped = `the spill limit of ${this.#spillLimit} bytes was reached`;
      this.#closeSpill();
    }
  }

  #closeSpill(): void {
    if (this.#spillFd === undefined) return;
    try {
      closeSync(this.#spillFd);
    } catch {
      // nothing more to lose
    }
    this.#spillFd = undefined;
  }

  #pushTail(chunk: Buffer): void {
    if (this.#tailLimit === 0) return;
    const ring = (this.#ring ??= Buffer.allocUnsafe(this.#tailLimit));
    const part = chunk.length > ring.length ? chunk.subarray(chunk.length - ring.length) : chunk;
    const first = Math.min(part.length, ring.length - this.#ringEnd);
    part.copy(ring, this.#ringEnd, 0, first);
    part.copy(ring, 0, first);
    this.#ringEnd = (this.#ringEnd + part.length) % ring.length;
    this.#ringFilled = Math.min(ring.length, this.#ringFilled + part.length);
  }

  /** The ring's bytes, oldest first. */
  #tailBytes(): Buffer {
    const ring = this.#ring;
    if (!ring || this.#ringFilled === 0) return Buffer.alloc(0);
    if (this.#ringFilled < ring.length) return Buffer.from(ring.subarray(0, this.#ringFilled));
    return Buffer.concat([ring.subarray(this.#ringEnd), ring.subarray(0, this.#ringEnd)]);
  }
}

function dirnameOf(path: string): string {
  const index = path.lastIndexOf('/');
  return index <= 0 ? '/' : path.slice(0, index);
}
