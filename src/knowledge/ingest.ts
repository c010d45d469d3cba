import { existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { glob, isDynamicPattern } from 'tinyglobby';
import { ConfigError, OpsmateError } from '../errors/opsmate-error.js';
import { co } from '../process/child-process.js';
import { embeddingText, INSERT_BATCH, type KnowledgeSource } from './knowledge-base.js';
import { knowledgeDir, withKnowledgeBase, type KnowledgeLocation } from './knowledge-location.js';
import type { Embedder } from './embedder.js';
import { addCounts, documentBatches, documentReader, type ReadDocument } from './read-documents.js';
import type { ReadWorkerData, ReadWorkerMessage } from './read-worker.js';
import type { SecretRedactorOptions } from '../safety/secret-redactor.js';
import { siblingModule, startModuleWorker } from '../process/module-worker.js';

/** What `opsmate ingest` takes by default: prose and runbooks, not every config file. */
export const DEFAULT_INGEST_GLOB = '**/*.{md,markdown,mdx,txt,rst}';
/** Folders never ingested. */
const IGNORED = ['**/.git/**', '**/node_modules/**'];
/** Texts sent to the embedding model at once (embedMany splits further for the provider). */
const EMBED_BATCH = 256;
const GIT_TIMEOUT_MS = 10 * 60_000;

export interface IngestProgress {
  phase: 'reading' | 'embedding' | 'writing';
  done: number;
  total: number;
}

export interface IngestSummary {
  source: string;
  root: string;
  files: number;
  added: number;
  changed: number;
  unchanged: number;
  deleted: number;
  skipped: Array<{ path: string; reason: string }>;
  chunks: number;
  redactions: number;
  /** Chunks embedded in this run (new ones, and those of another model). */
  embedded: number;
  /** Why embedding did not happen, when a model was configured and failed. */
  embeddingProblem?: string;
  bytes: number;
  elapsedMs: number;
}

/** A git remote, as git accepts it: a URL with a scheme, or scp-like `user@host:path`. */
export function looksLikeGitUrl(target: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(target) || /^[\w.-]+@[\w.-]+:/.test(target);
}

/** The source name from what was given: the folder's or the repository's name. */
export function defaultSourceName(target: string): string {
  const trimmed = target.replace(/[/\\]+$/, '').replace(/\.git$/, '');
  const last = trimmed
    .split(/[/:]/)
    .filter((part) => part !== '' && !isDynamicPattern(part))
    .pop();
  return (last ?? 'default').replace(/[^\w.-]+/g, '-') || 'default';
}

interface ResolvedTarget {
  source: KnowledgeSource;
  /** Relative paths under `source.root`, sorted. */
  files: string[];
}

/** The files that make up `target`: a folder, a file, a glob, or a git repository (cloned or updated). */
async function resolveTarget(options: {
  target: string;
  glob: string | undefined;
  name: string;
  branch: string | undefined;
  home: string;
  cwd: string;
  signal?: AbortSignal;
}): Promise<ResolvedTarget> {
  const { target } = options;
  let kind: KnowledgeSource['kind'];
  let root: string;
  let pattern = options.glob ?? DEFAULT_INGEST_GLOB;
  if (
    looksLikeGitUrl(target) ||
    options.branch !== undefined ||
    isBareRepository(resolve(options.cwd, target))
  ) {
    kind = 'git';
    root = await cloneRepository({
      url: looksLikeGitUrl(target) ? target : resolve(options.cwd, target),
      branch: options.branch,
      into: join(knowledgeDir(options.home), 'sources', options.name),
      ...(options.signal ? { signal: options.signal } : {}),
    });
  } else if (isDynamicPattern(target)) {
    kind = 'glob';
    const absolute = isAbsolute(target) ? target : join(options.cwd, target);
    const parts = absolute.split('/');
    const firstDynamic = parts.findIndex((part) => isDynamicPattern(part));
    root = parts.slice(0, firstDynamic).join('/') || '/';
    pattern = parts.slice(firstDynamic).join('/');
  } else {
    const absolute = resolve(options.cwd, target);
    if (!existsSync(absolute)) {
      throw new ConfigError(`${target}: no such file or folder`, {
        hint: "give a folder, a file, a glob in quotes ('docs/**/*.md') or a git URL",
      });
    }
    if (statSync(absolute).isDirectory()) {
      kind = 'folder';
      root = absolute;
    } else {
      kind = 'folder';
      root = dirname(absolute);
      pattern = options.glob ?? basename(absolute);
    }
  }
  const files = (await glob(pattern, { cwd: root, ignore: IGNORED, onlyFiles: true, dot: false })).sort();
  return {
    source: {
      name: options.name,
      origin: kind === 'git' || isAbsolute(target) ? target : resolve(options.cwd, target),
      kind,
      root,
      glob: pattern,
      ...(options.branch !== undefined ? { branch: options.branch } : {}),
    },
    files,
  };
}

function isBareRepository(path: string): boolean {
  return (
    existsSync(join(path, 'HEAD')) && existsSync(join(path, 'objects')) && existsSync(join(path, 'refs'))
  );
}

/**
 * Clones `url` (the system git: its credentials, SSH keys and proxies apply) into a fresh folder
 * and swaps it in for the previous clone, so a failed clone leaves the last one as it was.
 */
async function cloneRepository(options: {
  url: string;
  branch: string | undefined;
  into: string;
  signal?: AbortSignal;
}): Promise<string> {
  mkdirSync(dirname(options.into), { recursive: true });
  const fresh = `${options.into}.cloning-${process.pid}`;
  rmSync(fresh, { recursive: true, force: true });
  const url = options.url.startsWith('/') ? `file://${options.url}` : options.url;
  const result = await co(
    [
      'git',
      'clone',
      '--quiet',
      '--depth',
      '1',
      ...(options.branch ? ['--branch', options.branch] : []),
      '--',
      url,
      fresh,
    ],
    {
      timeoutMs: GIT_TIMEOUT_MS,
      env: { ...process.env, GIT_TERMINAL_PROMPT: '0', GIT_PAGER: 'cat' },
      ...(options.signal ? { signal: options.signal } : {}),
    },
  );
  if (result.exitCode !== 0) {
    rmSync(fresh, { recursive: true, force: true });
    options.signal?.throwIfAborted();
    const why = result.spawnError
      ? `git is not installed (${result.spawnError.code})`
      : result.timedOut
        ? 'git clone timed out'
        : result.stderr.trim().split('\n').slice(-2).join(' ') || `git exited with ${result.exitCode}`;
    throw new OpsmateError(
      `cannot clone ${options.url}${options.branch ? ` (branch ${options.branch})` : ''}: ${why}`,
      {
        hint: 'check the URL and branch with `git clone` yourself; opsmate uses the system git and its credentials',
      },
    );
  }
  rmSync(options.into, { recursive: true, force: true });
  renameSync(fresh, options.into);
  return options.into;
}

/**
 * Ingests `target` as the source `name`: unchanged files (by content hash) are skipped, changed
 * ones replaced, files gone since the last ingest forgotten. Secrets are masked before anything
 * is chunked, embedded or stored. With an embedder, new chunks are embedded, and so are chunks a
 * previous model embedded (or that a failed run left without); a model that fails is reported in
 * the summary and the chunks are stored for full-text search only.
 *
 * With an embedder, the embedded store is held only to read the stored hashes and to write the
 * result: reading files and waiting for the embedding model happen with it free for other
 * processes. Full-text only, one open does all three (reading and chunking is local work, about
 * as long as the write, and an open costs as much as writing half a megabyte).
 */
export async function ingest(options: {
  location: KnowledgeLocation;
  target: string;
  glob?: string;
  name?: string;
  branch?: string;
  home: string;
  cwd?: string;
  /** The secret masker's options (opsmate's environment): secrets are masked before chunking. */
  masking: SecretRedactorOptions;
  embedder?: Embedder;
  /**
   * Read the files in a worker thread while the store is written (full-text only). Default: when
   * at least READ_WORKER_MIN_FILES of them are new.
   */
  readInWorker?: boolean;
  onProgress?: (progress: IngestProgress) => void;
  signal?: AbortSignal;
}): Promise<IngestSummary> {
  const started = Date.now();
  const name = options.name ?? defaultSourceName(options.target);
  if (!/^[\w.@-]{1,100}$/.test(name)) {
    throw new ConfigError(
      `source name ${JSON.stringify(name)} may hold only letters, digits, ., _, @ and -`,
      {
        hint: 'choose one with --name',
      },
    );
  }
  const { source, files } = await resolveTarget({
    target: options.target,
    glob: options.glob,
    name,
    branch: options.branch,
    home: options.home,
    cwd: options.cwd ?? process.cwd(),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  const summary: IngestSummary = {
    source: name,
    root: source.root,
    files: files.length,
    added: 0,
    changed: 0,
    unchanged: 0,
    deleted: 0,
    skipped: [],
    chunks: 0,
    redactions: 0,
    embedded: 0,
    bytes: 0,
    elapsedMs: 0,
  };
  const signalOption = options.signal ? { signal: options.signal } : {};
  const changes = (stored: ReadonlyMap<string, string>, inWorker = options.readInWorker) =>
    readChanges({
      ...(inWorker !== undefined ? { inWorker } : {}),
      root: source.root,
      files,
      stored,
      masking: options.masking,
      summary,
      ...signalOption,
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    });
  if (!options.embedder) {
    // Full-text only: nothing to wait for between reading and writing, so one open of the store
    // does both (an open of the embedded store costs 0.2-0.4 s, as much as writing 0.5 MB), and
    // files are read in batches as the write goes, so one batch of chunks is held at a time,
    // whatever the size of the source.
    await withKnowledgeBase(
      options.location,
      async (knowledge) => {
        const { batches, deletes, newFiles } = changes(await knowledge.documentHashes(name));
        await knowledge.writeSource({
          source,
          upserts: batches,
          deletes,
          expectedChunks: newFiles * EXPECTED_CHUNKS_PER_FILE,
        });
        options.onProgress?.({
          phase: 'writing',
          done: summary.added + summary.changed,
          total: summary.added + summary.changed,
        });
      },
      signalOption,
    );
    summary.elapsedMs = Date.now() - started;
    return summary;
  }
  const { stored, vectorAvailable } = await withKnowledgeBase(
    options.location,
    async (knowledge) => ({
      stored: await knowledge.documentHashes(name),
      vectorAvailable: knowledge.vectorAvailable,
    }),
    signalOption,
  );
  const embedder = vectorAvailable ? options.embedder : undefined;
  const read = changes(stored, false);
  const upserts: ReadDocument[] = [];
  for await (const batch of read.batches) upserts.push(...batch);
  const { deletes } = read;
  if (options.embedder && !embedder) {
    summary.embeddingProblem = `the knowledge base at ${options.location.kind === 'postgres' ? 'the PostgreSQL server' : 'the embedded store'} has no pgvector extension, so embeddings cannot be stored (search is full-text only)`;
  }
  if (embedder) {
    const all = upserts.flatMap((document) => document.chunks);
    try {
      for (let start = 0; start < all.length; start += EMBED_BATCH) {
        options.onProgress?.({ phase: 'embedding', done: start, total: all.length });
        const batch = all.slice(start, start + EMBED_BATCH);
        const vectors = await embedder.embed(
          batch.map((chunk) =>
            embeddingText({
              title: chunk.title,
              heading_path: chunk.headingPath.join(' > '),
              content: chunk.content,
            }),
          ),
          { ...(options.signal ? { signal: options.signal } : {}) },
        );
        batch.forEach((chunk, index) => {
          const vector = vectors[index];
          if (vector) chunk.embedding = vector;
        });
        summary.embedded += batch.length;
      }
    } catch (error) {
      options.signal?.throwIfAborted();
      summary.embeddingProblem = error instanceof Error ? error.message : String(error);
      for (const chunk of all) delete chunk.embedding;
      summary.embedded = 0;
    }
  }
  options.onProgress?.({ phase: 'writing', done: 0, total: upserts.length });
  await withKnowledgeBase(
    options.location,
    (knowledge) =>
      knowledge.writeSource({
        source,
        // The hashes were read under an earlier hold of the store: another ingest of this source
        // may have written since, so any document may be stored now (`replaces` unknown).
        upserts: [upserts.map(({ replaces: _replaces, ...document }) => document)],
        deletes,
        expectedChunks: upserts.reduce((sum, document) => sum + document.chunks.length, 0),
        ...(embedder ? { embeddingModel: embedder.model } : {}),
      }),
    { ...(options.signal ? { signal: options.signal } : {}) },
  );
  if (embedder && summary.embeddingProblem === undefined) {
    summary.embedded += await reembed({
      location: options.location,
      embedder,
      ...(options.signal ? { signal: options.signal } : {}),
      onProgress: (count) => options.onProgress?.({ phase: 'embedding', done: count, total: count }),
    }).catch((error: unknown) => {
      options.signal?.throwIfAborted();
      summary.embeddingProblem = error instanceof Error ? error.message : String(error);
      return 0;
    });
  }
  summary.elapsedMs = Date.now() - started;
  return summary;
}

/** Documents per batch of {@link readChanges} at most, and chunks per batch at least. */
const READ_BATCH_FILES = 200;
/**
 * With fewer new files, a source is read in ingest's own thread. Starting the reader thread (its
 * modules loaded and compiled again) costs 100-150 ms, and it saves about 65 µs a file
 * (docs/benchmarks.md); a re-ingest reads mostly unchanged files, which only need hashing.
 */
const READ_WORKER_MIN_FILES = 1_000;
/** Batches the reader thread may have read ahead of the write. */
const READ_AHEAD_BATCHES = 2;
/**
 * A new file's chunks, as the write guesses them before reading (it decides from them whether to
 * rebuild the full-text index once: KnowledgeBase.bulkLoad). The bench corpora average 5.
 */
const EXPECTED_CHUNKS_PER_FILE = 4;

/**
 * The files of a source that differ from `stored` (path to content hash), read, masked and
 * chunked in batches of about INSERT_BATCH chunks as they are asked for, counting into `summary`;
 * with which stored paths are gone and how many files are new. `inWorker`: a reader thread
 * reads ahead while the caller writes (the batches are then asynchronous).
 */
function readChanges(options: {
  root: string;
  files: readonly string[];
  stored: ReadonlyMap<string, string>;
  masking: SecretRedactorOptions;
  summary: IngestSummary;
  inWorker?: boolean;
  onProgress?: (progress: IngestProgress) => void;
  signal?: AbortSignal;
}): {
  batches: Iterable<ReadDocument[]> | AsyncIterable<ReadDocument[]>;
  deletes: string[];
  newFiles: number;
} {
  const { files, stored, summary } = options;
  const present = new Set(files);
  const deletes = [...stored.keys()].filter((path) => !present.has(path));
  summary.deleted = deletes.length;
  const newFiles = files.filter((path) => !stored.has(path)).length;
  const inWorker = options.inWorker ?? newFiles >= READ_WORKER_MIN_FILES;
  if (inWorker) return { batches: readInWorker(options), deletes, newFiles };
  const read = documentReader(options);
  function* batches(): Generator<ReadDocument[]> {
    for (const { documents } of documentBatches({
      read,
      files,
      counts: summary,
      batchChunks: INSERT_BATCH,
      batchFiles: READ_BATCH_FILES,
      beforeFile: (done) => {
        options.signal?.throwIfAborted();
        options.onProgress?.({ phase: 'reading', done, total: files.length });
      },
    })) {
      yield documents;
    }
    options.onProgress?.({ phase: 'reading', done: files.length, total: files.length });
  }
  return { batches: batches(), deletes, newFiles };
}

/**
 * {@link readChanges}'s batches from a reader thread (read-worker.ts), granted one more batch as
 * each is taken. The thread is ended when the caller stops taking batches, whether the write is
 * done, failed or aborted; an error in it (a file that cannot be read) rejects the next batch.
 */
export async function* readInWorker(options: {
  root: string;
  files: readonly string[];
  stored: ReadonlyMap<string, string>;
  masking: SecretRedactorOptions;
  summary: IngestSummary;
  onProgress?: (progress: IngestProgress) => void;
  signal?: AbortSignal;
}): AsyncGenerator<ReadDocument[]> {
  const { signal, files } = options;
  signal?.throwIfAborted();
  const data: ReadWorkerData = {
    root: options.root,
    files: [...files],
    stored: [...options.stored],
    masking: options.masking,
    batchChunks: INSERT_BATCH,
    batchFiles: READ_BATCH_FILES,
    credit: READ_AHEAD_BATCHES,
  };
  const worker = startModuleWorker(siblingModule(import.meta.url, 'read-worker'), { workerData: data });
  const messages: ReadWorkerMessage[] = [];
  let failure: unknown;
  let ended = false;
  let wake: (() => void) | undefined;
  const woken = () => {
    const resolve = wake;
    wake = undefined;
    resolve?.();
  };
  worker.on('message', (message: ReadWorkerMessage) => {
    messages.push(message);
    woken();
  });
  worker.on('error', (error) => {
    failure ??= error;
    woken();
  });
  worker.on('exit', (code) => {
    if (!ended) failure ??= new Error(`the file reader thread stopped (exit code ${code})`);
    woken();
  });
  signal?.addEventListener('abort', woken);
  options.onProgress?.({ phase: 'reading', done: 0, total: files.length });
  try {
    for (;;) {
      signal?.throwIfAborted();
      const message = messages.shift();
      if (message === undefined) {
        if (failure !== undefined) throw failure;
        await new Promise<void>((resolve) => (wake = resolve));
        continue;
      }
      if (message.kind === 'error') {
        throw new OpsmateError(message.message, message.hint === undefined ? {} : { hint: message.hint });
      }
      addCounts(options.summary, message.counts);
      options.onProgress?.({ phase: 'reading', done: message.done, total: files.length });
      if (message.kind === 'end') return;
      worker.postMessage({ credit: 1 });
      yield message.documents;
    }
  } finally {
    ended = true;
    signal?.removeEventListener('abort', woken);
    // A thread stuck in a read the kernel does not interrupt (a hung network mount) cannot be
    // terminated; the ingest does not wait for it beyond this, and the process exits without it.
    worker.unref();
    await Promise.race([worker.terminate(), new Promise((resolve) => setTimeout(resolve, 2_000).unref())]);
  }
}

/**
 * Embeds every chunk not embedded by `embedder`'s model (another model wrote its vector, or a
 * failed run left it without), a batch at a time, holding the store only to read and to write.
 * Resolves with how many were embedded.
 */
export async function reembed(options: {
  location: KnowledgeLocation;
  embedder: Embedder;
  signal?: AbortSignal;
  onProgress?: (embedded: number) => void;
}): Promise<number> {
  const { embedder } = options;
  const signalOption = options.signal ? { signal: options.signal } : {};
  let total = 0;
  for (;;) {
    const pending = await withKnowledgeBase(
      options.location,
      (knowledge) => knowledge.chunksToEmbed(embedder.model, EMBED_BATCH * 4),
      signalOption,
    );
    if (pending.length === 0) return total;
    const vectors: Array<{ id: number; embedding: number[] }> = [];
    for (let start = 0; start < pending.length; start += EMBED_BATCH) {
      const batch = pending.slice(start, start + EMBED_BATCH);
      const embedded = await embedder.embed(
        batch.map((chunk) => chunk.text),
        signalOption,
      );
      batch.forEach((chunk, index) => {
        const vector = embedded[index];
        if (vector && vector.length > 0) vectors.push({ id: chunk.id, embedding: vector });
      });
    }
    if (vectors.length === 0) throw new Error(`embedding model ${embedder.model} returned no vectors`);
    await withKnowledgeBase(
      options.location,
      (knowledge) => knowledge.setEmbeddings(embedder.model, vectors),
      signalOption,
    );
    total += vectors.length;
    options.onProgress?.(total);
  }
}

/** A path relative to `from`, for messages. */
export function displayPath(path: string, from: string): string {
  const relativePath = relative(from, path);
  return relativePath.startsWith('..') ? path : relativePath || '.';
}
