import { randomBytes } from 'node:crypto';
import {
  closeSync,
  constants,
  fdatasync,
  fdatasyncSync,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readSync,
  statSync,
  writeSync,
} from 'node:fs';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { ConfigError, errorMessage, OpsmateError } from '../errors/opsmate-error.js';
import {
  AUDIT_FORMAT_VERSION,
  GENESIS_HASH,
  HEAD_FILE_BYTES,
  headPath,
  lineHash,
  sealRecord,
  type AuditDecision,
  type AuditFinish,
  type AuditRecordType,
} from './audit-format.js';

export {
  AUDIT_FORMAT_VERSION,
  GENESIS_HASH,
  type AuditDecision,
  type AuditFileChange,
  type AuditFinish,
  type AuditOutcome,
} from './audit-format.js';

/**
 * When the "started" record of a command must be on disk:
 * - `durable` (default): fdatasync'd before the command is handed to the runtime, so it survives a
 *   power loss or a kernel crash as well as opsmate being killed;
 * - `written`: written to the file (the kernel holds it) before the command is handed over, which
 *   survives opsmate being killed (SIGKILL, OOM, a crash) but not a power loss before the next
 *   sync; syncs run in the background at most {@link WRITTEN_SYNC_DELAY_MS} after a record, one at
 *   a time, each covering every record written before it began (a group commit), so the command
 *   does not wait for the disk.
 */
export type AuditSync = 'durable' | 'written';
export const AUDIT_SYNC_MODES = ['durable', 'written'] as const satisfies readonly AuditSync[];

/** `written` mode: how long after a record its background sync starts, at most, in milliseconds. */
export const WRITTEN_SYNC_DELAY_MS = 50;
/** Bytes read from the end of the log at a time when looking for its last line. */
const TAIL_CHUNK_BYTES = 64 * 1024;

/** The log could not be written. `hint` says what to do about it. */
export class AuditError extends OpsmateError {
  /** The errno code behind the failure (`ENOSPC`, `EACCES`...), when there was one. */
  readonly code: string | undefined;

  constructor(message: string, options: { hint?: string; cause?: unknown; code?: string } = {}) {
    super(message, options);
    this.name = 'AuditError';
    this.code = options.code;
  }

  static override isInstance(value: unknown): value is AuditError {
    return OpsmateError.isInstance(value) && (value as { name?: unknown }).name === 'AuditError';
  }
}

/** A command whose "started" record is written: pass it to {@link AuditLog.finished}. */
export interface AuditStart {
  /** The record's number in this writer's chain. */
  n: number;
  /**
   * Settles when the started record is on disk. Already settled in `durable` mode; in `written`
   * mode it settles when the background sync that covers it is done, and rejects with an
   * AuditError when that sync fails.
   */
  durable: Promise<void>;
}

interface OpenFile {
  fd: number;
  headFd: number;
  dev: number;
  ino: number;
  /** Size of the log after this writer's last write, or -1 when unknown. */
  knownSize: number;
  /** This writer's chain in this file. */
  seg: string;
  n: number;
  prev: string;
  /** `written` mode: the background sync running now, if any. */
  syncing: Promise<void> | undefined;
  /** `written` mode: the next background sync, when one is due. */
  syncTimer: NodeJS.Timeout | undefined;
  /** `written` mode: records written since the running sync began, waiting for the next one. */
  waiting: Array<{ resolve: () => void; reject: (error: unknown) => void }>;
}

/**
 * The audit log: an append-only JSON-lines file. Each command gets a `started` record before it
 * runs and a `finished` record after it; a refused command gets a `refused` record. Each record
 * carries the SHA-256 of its own text and the hash of the previous record of the same writer, so
 * editing, inserting or deleting a line breaks a chain; `<file>.head` names the last record made
 * durable, so cutting lines off the end shows too.
 *
 * One writer (one opsmate process) keeps the file open and appends each record with a single
 * O_APPEND write: writers never wait for each other and need no lock. A writer's first record
 * (`open`) points at the log's last line when it began, and a record written after other writers
 * appended points (`seen`) at the line they wrote last, so the chains are tied together.
 *
 * The chain is not signed: someone who can write the file can rebuild it. Ship the lines (or the
 * head) somewhere they cannot write for protection against that.
 */
export class AuditLog {
  readonly path: string;
  readonly sync: AuditSync;
  readonly #now: () => Date;
  #file: OpenFile | undefined;

  constructor(path: string, options: { now?: () => Date; sync?: AuditSync } = {}) {
    this.path = path;
    this.sync = options.sync ?? 'written';
    this.#now = options.now ?? (() => new Date());
  }

  /**
   * Creates the log's folder and opens the log for appending. Throws a ConfigError when it cannot,
   * so a run stops before its first command. Safe to call twice.
   */
  open(): void {
    try {
      this.#ensureOpen();
    } catch (error) {
      throw new ConfigError(`cannot write the audit log ${this.path}: ${describeFsError(error)}`, {
        hint: fixHint(this.path, error),
      });
    }
  }

  /**
   * Writes the "started" record of a command that is about to run, and (in `durable` mode) makes
   * it durable. Throws an AuditError when either fails: the command must not run then.
   */
  started(decision: AuditDecision): AuditStart {
    const n = this.#append('started', { ...decision }, 'command');
    const file = this.#file!;
    if (this.sync === 'durable') {
      try {
        this.#syncNow(file, 'command');
      } catch (error) {
        // The command will not run: say so in the log too, or it would look like a kill.
        try {
          this.#append('finished', { of: n, ...notRunFinish(error) }, 'result');
        } catch {
          // Nothing more can be written.
        }
        throw error;
      }
      return { n, durable: Promise.resolve() };
    }
    const durable = new Promise<void>((resolve, reject) => file.waiting.push({ resolve, reject }));
    this.#syncInBackground(file);
    return { n, durable };
  }

  /** Writes the "finished" record of a started command. Throws an AuditError. */
  finished(start: AuditStart, finish: AuditFinish): void {
    this.#append('finished', { of: start.n, ...finish }, 'result');
  }

  /** Records a command that was refused (denied by the policy, cancelled in review) and never ran. */
  refused(decision: AuditDecision): void {
    this.#append('refused', { ...decision }, 'refusal');
  }

  /** Makes every record durable, updates the head file and closes the log. Never throws. */
  async close(): Promise<void> {
    const file = this.#file;
    if (!file) return;
    this.#file = undefined;
    clearTimeout(file.syncTimer);
    file.syncTimer = undefined;
    while (file.syncing) await file.syncing;
    try {
      if (file.n > 0) {
        fdatasyncSync(file.fd);
        this.#writeHead(file, file.n, file.prev);
      }
      for (const waiter of file.waiting) waiter.resolve();
    } catch (error) {
      // The records were written; only their flush to disk failed.
      const failure = this.#error('make the records durable in', error);
      for (const waiter of file.waiting) waiter.reject(failure);
    }
    file.waiting = [];
    closeQuietly(file.fd);
    closeQuietly(file.headFd);
  }

  /** Appends one record (after this writer's `open` record when it is the first) and returns its `n`. */
  #append(type: AuditRecordType, fields: Record<string, unknown>, what: string): number {
    let file: OpenFile;
    try {
      // A finished record goes where its started record went, even if the log moved meanwhile.
      file = this.#ensureOpen({ checkReplaced: type !== 'finished' });
    } catch (error) {
      throw this.#error(`write the ${what} record to`, error);
    }
    let size: number;
    let tail: LogTail | undefined;
    try {
      size = fstatSync(file.fd).size;
      if (size !== file.knownSize) tail = readTail(file.fd, size);
    } catch (error) {
      throw this.#error(`read the end of`, error);
    }
    let n = file.n;
    let prev = file.prev;
    let text = tail && !tail.endsWithNewline ? '\n' : '';
    const time = this.#now().toISOString();
    if (n === 0) {
      const open = sealRecord({
        v: AUDIT_FORMAT_VERSION,
        seg: file.seg,
        n: 1,
        type: 'open',
        time,
        pid: process.pid,
        host: hostname(),
        sync: this.sync,
        prev: tail?.lastHash ?? GENESIS_HASH,
      });
      text += open.line;
      n = 1;
      prev = open.hash;
    }
    const seen =
      file.n > 0 && tail?.lastHash !== undefined && tail.lastHash !== file.prev ? tail.lastHash : undefined;
    const record = sealRecord({
      v: AUDIT_FORMAT_VERSION,
      seg: file.seg,
      n: n + 1,
      type,
      time,
      ...fields,
      ...(seen !== undefined ? { seen } : {}),
      prev,
    });
    text += record.line;
    const buffer = Buffer.from(text);
    let written: number;
    try {
      written = writeSync(file.fd, buffer);
    } catch (error) {
      file.knownSize = -1;
      throw this.#error(`write the ${what} record to`, error);
    }
    if (written !== buffer.length) {
      // A short write leaves part of a line: the next record starts on a new line, and the chain
      // goes on from the last complete record.
      file.knownSize = -1;
      throw this.#error(
        `write the ${what} record to`,
        Object.assign(new Error('short write'), { code: 'ENOSPC' }),
      );
    }
    file.knownSize = size + buffer.length;
    file.n = n + 1;
    file.prev = record.hash;
    return file.n;
  }

  #syncNow(file: OpenFile, what: string): void {
    try {
      fdatasyncSync(file.fd);
    } catch (error) {
      throw this.#error(`make the ${what} record durable in`, error);
    }
    this.#writeHead(file, file.n, file.prev);
  }

  /** Finishes with a file that was moved away or removed: its records made durable, then closed. */
  #retire(file: OpenFile): void {
    clearTimeout(file.syncTimer);
    file.syncTimer = undefined;
    try {
      fdatasyncSync(file.fd);
      for (const waiter of file.waiting) waiter.resolve();
    } catch (error) {
      const failure = this.#error('make the record of the command durable in', error);
      for (const waiter of file.waiting) waiter.reject(failure);
    }
    file.waiting = [];
    const closeFiles = (): void => {
      closeQuietly(file.fd);
      closeQuietly(file.headFd);
    };
    if (file.syncing) void file.syncing.then(closeFiles);
    else closeFiles();
  }

  /**
   * Group commit for `written` mode: one fdatasync at a time, covering every record written before
   * it began; records written meanwhile wait for the next one.
   */
  #syncInBackground(file: OpenFile): void {
    if (file.syncing || file.syncTimer || file.waiting.length === 0) return;
    // A little later, not at once: a write into a page the disk is still writing waits for it, so
    // back-to-back syncs would slow every append down to the speed of the disk.
    file.syncTimer = setTimeout(() => {
      file.syncTimer = undefined;
      this.#syncBatch(file);
    }, WRITTEN_SYNC_DELAY_MS);
  }

  #syncBatch(file: OpenFile): void {
    if (file.waiting.length === 0) return;
    const batch = file.waiting;
    file.waiting = [];
    const n = file.n;
    const hash = file.prev;
    file.syncing = new Promise<void>((done) => {
      fdatasync(file.fd, (error) => {
        file.syncing = undefined;
        if (error) {
          const failure = this.#error('make the record of the command durable in', error);
          for (const waiter of batch) waiter.reject(failure);
        } else {
          this.#writeHead(file, n, hash);
          for (const waiter of batch) waiter.resolve();
        }
        done();
        this.#syncInBackground(file);
      });
    });
  }

  /**
   * Points the head file at a record of this writer that is on disk. Best effort: verify only
   * warns about a head that lags behind.
   */
  #writeHead(file: OpenFile, n: number, hash: string): void {
    const head = JSON.stringify({ v: AUDIT_FORMAT_VERSION, seg: file.seg, n, hash });
    const buffer = Buffer.alloc(HEAD_FILE_BYTES, ' ');
    buffer.write(head);
    buffer[HEAD_FILE_BYTES - 1] = 0x0a;
    try {
      writeSync(file.headFd, buffer, 0, buffer.length, 0);
    } catch {
      // A head that lags behind is reported by verify as a warning, never as tampering.
    }
  }

  /** The open log, reopened as a new chain when the file was removed or replaced (rotated). */
  #ensureOpen(options: { checkReplaced?: boolean } = {}): OpenFile {
    const file = this.#file;
    if (file && options.checkReplaced === false) return file;
    if (file) {
      let current: { dev: number; ino: number } | undefined;
      try {
        current = statSync(this.path);
      } catch {
        current = undefined;
      }
      if (current && current.ino === file.ino && current.dev === file.dev) return file;
      this.#file = undefined;
      this.#retire(file);
    }
    mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
    const fd = openSync(this.path, constants.O_RDWR | constants.O_APPEND | constants.O_CREAT, 0o600);
    let headFd: number;
    try {
      headFd = openSync(headPath(this.path), constants.O_RDWR | constants.O_CREAT, 0o600);
      if (fstatSync(headFd).size > HEAD_FILE_BYTES) ftruncateSync(headFd, HEAD_FILE_BYTES);
    } catch (error) {
      closeQuietly(fd);
      throw error;
    }
    const stat = fstatSync(fd);
    // A new file's name must reach the disk too, or a power loss could lose the whole log.
    if (stat.size === 0) syncFolder(dirname(this.path));
    this.#file = {
      fd,
      headFd,
      dev: stat.dev,
      ino: stat.ino,
      knownSize: -1,
      seg: randomBytes(6).toString('hex'),
      n: 0,
      prev: GENESIS_HASH,
      syncing: undefined,
      syncTimer: undefined,
      waiting: [],
    };
    return this.#file;
  }

  #error(action: string, error: unknown): AuditError {
    const code = (error as NodeJS.ErrnoException | undefined)?.code;
    return new AuditError(`cannot ${action} the audit log ${this.path}: ${describeFsError(error)}`, {
      hint: fixHint(this.path, error),
      cause: error,
      ...(code !== undefined ? { code } : {}),
    });
  }
}

interface LogTail {
  /** Hash of the last complete non-empty line, if any. */
  lastHash: string | undefined;
  endsWithNewline: boolean;
}

/** The end of the log: how its last complete line hashes, and whether a partial line follows it. */
function readTail(fd: number, size: number): LogTail {
  if (size === 0) return { lastHash: undefined, endsWithNewline: true };
  let chunk = TAIL_CHUNK_BYTES;
  for (;;) {
    const start = Math.max(0, size - chunk);
    const buffer = Buffer.alloc(size - start);
    readSync(fd, buffer, 0, buffer.length, start);
    const endsWithNewline = buffer[buffer.length - 1] === 0x0a;
    const text = buffer.toString('utf8');
    // Complete lines end with a newline; anything after the last one is a partial line.
    const complete = text.slice(0, text.lastIndexOf('\n') + 1).replace(/\n+$/, '');
    const newline = complete.lastIndexOf('\n');
    if (newline >= 0 || start === 0) {
      const line = complete.slice(newline + 1);
      return { lastHash: line === '' ? undefined : lineHash(line), endsWithNewline };
    }
    chunk *= 4;
  }
}

function notRunFinish(error: unknown): AuditFinish {
  return {
    exitCode: null,
    durationMs: 0,
    outputBytes: 0,
    error: `not run: the started record could not be made durable: ${errorMessage(error)}`,
  };
}

function syncFolder(path: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    fsyncSync(fd);
  } catch {
    // Some file systems cannot sync a folder; the file's own syncs still hold.
  } finally {
    if (fd !== undefined) closeQuietly(fd);
  }
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // already closed
  }
}

/** A file-system error in words a user can act on, with its code. */
export function describeFsError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const words: Record<string, string> = {
    ENOSPC: 'no space left on the device',
    EDQUOT: 'the disk quota is used up',
    EACCES: 'permission denied',
    EPERM: 'operation not permitted',
    EROFS: 'the file system is read-only',
    EIO: 'input/output error',
    EFBIG: 'the file is too large',
    ENOTDIR: 'a part of the path is not a folder',
    EEXIST: 'a part of the path is not a folder',
    EISDIR: 'it is a folder',
  };
  const text = code && words[code] ? words[code] : errorMessage(error);
  return code ? `${text} (${code})` : text;
}

function fixHint(path: string, error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const other = 'or choose another file with --audit-log (env OPSMATE_AUDIT_LOG)';
  if (code === 'ENOSPC' || code === 'EDQUOT' || code === 'EFBIG') {
    return `free space on the file system that holds ${dirname(path)}, ${other}`;
  }
  if (code === 'EIO') return `check the disk that holds ${dirname(path)}, ${other}`;
  return `fix the permissions of ${path} and its folder, ${other}`;
}
