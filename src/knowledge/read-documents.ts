import { createHash } from 'node:crypto';
import { closeSync, constants, fstatSync, openSync, readSync, realpathSync } from 'node:fs';
import { basename, dirname, join, sep } from 'node:path';
import { errorMessage, OpsmateError } from '../errors/opsmate-error.js';
import { SecretRedactor, type SecretRedactorOptions } from '../safety/secret-redactor.js';
import { chunkDocument, type DocumentChunk } from './chunk-document.js';
import type { DocumentInput } from './knowledge-base.js';

/** Part of every content hash: a new chunker makes every file "changed", so it is chunked again. */
const CHUNKER_VERSION = 'chunker-1';
/** Files larger than this are skipped with a warning: a runbook is not a log dump. */
export const MAX_FILE_BYTES = 5 * 1024 * 1024;

/** sha256 of the chunker version and the file's bytes: what "unchanged" means. */
export function contentHash(content: Buffer): string {
  return createHash('sha256').update(CHUNKER_VERSION).update('\0').update(content).digest('hex');
}

/** A file skipped, and why (as `opsmate ingest` warns). */
type SkipReason = string;

/**
 * The bytes of `path` under `root` (a real path), or why it is skipped:
 * - it resolves outside the root (a symbolic link, or a linked folder, to elsewhere: a repository
 *   must not make opsmate read ~/.ssh or /etc);
 * - it is not a regular file (a FIFO, a device, a folder), checked on the open descriptor, opened
 *   non-blocking, so nothing swapped in after the listing can hang the read;
 * - it is larger than MAX_FILE_BYTES (at most that much and one byte more is read: a file that
 *   grows while it is read is skipped too);
 * - it was deleted, or its folder replaced, after the listing.
 * Any other error is an OpsmateError naming the file.
 */
function readWithin(root: string, path: string, folders: Map<string, string>): Buffer | SkipReason {
  let fd: number | undefined;
  const within = (real: string) => real === root || real.startsWith(root.endsWith(sep) ? root : root + sep);
  try {
    // The folder's real path, once per folder; the file itself is opened without following a
    // link, and only a link is resolved.
    const folder = dirname(path);
    let realFolder = folders.get(folder);
    if (realFolder === undefined) {
      realFolder = realpathSync.native(join(root, folder));
      folders.set(folder, realFolder);
    }
    if (!within(realFolder)) return 'a link to outside the source';
    const flags = constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW;
    try {
      fd = openSync(join(realFolder, basename(path)), flags);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ELOOP') throw error;
      const real = realpathSync.native(join(realFolder, basename(path)));
      if (!within(real)) return 'a link to outside the source';
      fd = openSync(real, flags);
    }
    const stats = fstatSync(fd);
    if (!stats.isFile()) return 'not a regular file';
    const tooLarge = `larger than ${MAX_FILE_BYTES / 1024 / 1024} MiB`;
    if (stats.size > MAX_FILE_BYTES) return tooLarge;
    const buffer = Buffer.allocUnsafe(Math.min(stats.size, MAX_FILE_BYTES) + 1);
    let length = 0;
    for (;;) {
      const got = readSync(fd, buffer, length, buffer.length - length, null);
      if (got === 0) break;
      length += got;
      if (length > MAX_FILE_BYTES) return tooLarge;
      if (length === buffer.length) break;
    }
    // Grown since fstat, but within the limit: read the rest.
    if (length === buffer.length) {
      const rest: Buffer[] = [buffer];
      const more = Buffer.allocUnsafe(64 * 1024);
      for (
        let got = readSync(fd, more, 0, more.length, null);
        got > 0;
        got = readSync(fd, more, 0, more.length, null)
      ) {
        length += got;
        if (length > MAX_FILE_BYTES) return tooLarge;
        rest.push(Buffer.from(more.subarray(0, got)));
      }
      return Buffer.concat(rest, length);
    }
    return buffer.subarray(0, length);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // Listed, then deleted (or its folder replaced) before it was read: the source as it is now.
    if (code === 'ENOENT' || code === 'ENOTDIR') return 'removed while the ingest ran';
    // O_NOFOLLOW: the file was replaced by a link between the realpath and the open.
    if (code === 'ELOOP') return 'a link to outside the source';
    throw new OpsmateError(`cannot read ${path} in the source: ${errorMessage(error)}`, {
      hint: 'fix its permissions, or leave it out with --glob',
    });
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** A file read for the knowledge base: masked and chunked, ready to store. */
export type ReadDocument = DocumentInput & { chunks: Array<DocumentChunk & { embedding?: number[] }> };

/** What reading files found, as {@link IngestSummary} counts it (ingest.ts). */
export interface ReadCounts {
  added: number;
  changed: number;
  unchanged: number;
  skipped: Array<{ path: string; reason: string }>;
  chunks: number;
  redactions: number;
  bytes: number;
}

/** Counts with nothing counted yet. */
export function noCounts(): ReadCounts {
  return { added: 0, changed: 0, unchanged: 0, skipped: [], chunks: 0, redactions: 0, bytes: 0 };
}

/** What `counts` holds now, as a copy, and `counts` emptied for what comes next. */
export function takeCounts(counts: ReadCounts): ReadCounts {
  const taken = { ...counts, skipped: [...counts.skipped] };
  Object.assign(counts, noCounts());
  return taken;
}

/**
 * `files` read with `read` (see {@link documentReader}), counting into `counts`, in batches of at
 * least `batchChunks` chunks or at most `batchFiles` documents, each with how many files were
 * looked at so far. `beforeFile` is told of each file before it is read (a progress bar, an abort
 * check). Ingest's thread and its reader thread batch the same way through this.
 */
export function* documentBatches(options: {
  read: (path: string, counts: ReadCounts) => ReadDocument | undefined;
  files: readonly string[];
  counts: ReadCounts;
  batchChunks: number;
  batchFiles: number;
  beforeFile?: (done: number) => void;
}): Generator<{ documents: ReadDocument[]; done: number }> {
  let documents: ReadDocument[] = [];
  let chunks = 0;
  let done = 0;
  for (const path of options.files) {
    options.beforeFile?.(done);
    const document = options.read(path, options.counts);
    done++;
    if (document === undefined) continue;
    documents.push(document);
    chunks += document.chunks.length;
    if (chunks >= options.batchChunks || documents.length >= options.batchFiles) {
      yield { documents, done };
      documents = [];
      chunks = 0;
    }
  }
  if (documents.length > 0) yield { documents, done };
}

/** Adds `from` to `into`. */
export function addCounts(into: ReadCounts, from: ReadCounts): void {
  into.added += from.added;
  into.changed += from.changed;
  into.unchanged += from.unchanged;
  into.skipped.push(...from.skipped);
  into.chunks += from.chunks;
  into.redactions += from.redactions;
  into.bytes += from.bytes;
}

/** What reads a source's files: where they are, what is stored, and how secrets are masked. */
export interface ReaderOptions {
  root: string;
  /** The stored content hash of each path: a file with the same hash is unchanged. */
  stored: ReadonlyMap<string, string>;
  /** The masker's options: secrets are masked before a file is chunked. */
  masking: SecretRedactorOptions;
}

/**
 * Reads one file of a source (a path under the root): undefined when it is unchanged, too large
 * or binary (counted in `counts`), else the document masked (its lines kept where they were, so
 * line ranges stay true) and chunked. The same code runs in ingest's process and in its reader
 * worker (read-worker.ts).
 */
export function documentReader(
  options: ReaderOptions,
): (path: string, counts: ReadCounts) => ReadDocument | undefined {
  const redactor = new SecretRedactor(options.masking);
  let root: string;
  try {
    root = realpathSync.native(options.root);
  } catch (error) {
    throw new OpsmateError(`cannot read the source at ${options.root}: ${errorMessage(error)}`, {
      hint: 'check that the folder exists and is readable, then ingest again',
    });
  }
  const folders = new Map<string, string>();
  return (path, counts) => {
    const read = readWithin(root, path, folders);
    if (typeof read === 'string') {
      counts.skipped.push({ path, reason: read });
      return undefined;
    }
    const content = read;
    if (content.includes(0)) {
      counts.skipped.push({ path, reason: 'binary' });
      return undefined;
    }
    counts.bytes += content.length;
    const hash = contentHash(content);
    const previous = options.stored.get(path);
    if (previous === hash) {
      counts.unchanged++;
      return undefined;
    }
    if (previous === undefined) counts.added++;
    else counts.changed++;
    const masked = redactor.redact(content.toString('utf8'), { keepLineCount: true });
    const chunks = chunkDocument({ path, text: masked.text });
    counts.redactions += masked.count;
    counts.chunks += chunks.length;
    return {
      path,
      hash,
      bytes: content.length,
      redactions: masked.count,
      chunks,
      replaces: previous !== undefined,
    };
  };
}
