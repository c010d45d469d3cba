import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
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
  return (path, counts) => {
    const absolute = join(options.root, path);
    let content: Buffer;
    try {
      const stats = statSync(absolute);
      if (!stats.isFile()) {
        counts.skipped.push({ path, reason: 'not a regular file' });
        return undefined;
      }
      if (stats.size > MAX_FILE_BYTES) {
        counts.skipped.push({ path, reason: `larger than ${MAX_FILE_BYTES / 1024 / 1024} MiB` });
        return undefined;
      }
      content = readFileSync(absolute);
    } catch (error) {
      // Listed, then deleted before it was read: what the source holds now is what is stored.
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      counts.skipped.push({ path, reason: 'removed while the ingest ran' });
      return undefined;
    }
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
