import { createHash } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fstatSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { dirname } from 'node:path';
import { ConfigError, errorMessage, OpsmateError } from '../errors/opsmate-error.js';
import { acquireFileLock } from '../process/file-lock.js';

/** Version of the audit line format below. */
export const AUDIT_FORMAT_VERSION = 1;
/** `prev` of the first entry. */
export const GENESIS_HASH = '0'.repeat(64);
/** How long an append waits for another opsmate process to release the lock. */
const LOCK_TIMEOUT_MS = 10_000;
/** A lock older than this is left over from a crashed process. */
const STALE_LOCK_MS = 30_000;

/** How a command came to run, or not. */
export type AuditOutcome = 'approved' | 'edited' | 'denied' | 'cancelled';

/** What one audit line says about one command. Secrets must be masked before they get here. */
export interface AuditRecord {
  runtime: string;
  /** Facts naming the target, from `Runtime.target()`: host, container, pod... */
  target: Record<string, string>;
  sessionId?: string;
  /** The user's instruction that led to the command; absent for `opsmate exec`. */
  instruction?: string;
  /** The command that ran (or would have). */
  command: string;
  /** The command as proposed, when a reviewer edited it. */
  originalCommand?: string;
  outcome: AuditOutcome;
  /** Who decided: `policy`, `reviewer`, `--yes`, `no-terminal`. */
  decidedBy: string;
  /** The policy rule that decided, or asked for the review. */
  rule?: string;
  /** The policy profile the command was judged with: `read-only`, `ask-destructive`, `allow-all`. */
  profile?: string;
  reason?: string;
  exitCode: number | null;
  durationMs: number;
  /** Bytes the command wrote to stdout and stderr together. */
  outputBytes: number;
  timedOut?: boolean;
  cancelled?: boolean;
  /** Secret values masked in what the model was shown. */
  redactions?: number;
}

/** One line of the log: the record, its place in the chain, and the chain hash. */
export interface AuditEntry extends AuditRecord {
  v: number;
  seq: number;
  time: string;
  prev: string;
  hash: string;
}

/** The log could not be written. */
export class AuditError extends OpsmateError {
  constructor(message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, options);
    this.name = 'AuditError';
  }
}

/**
 * An append-only JSON-lines file where each line carries the SHA-256 of its own text chained to
 * the previous line's hash, so an edited, inserted or deleted line breaks the chain. A sidecar
 * `<file>.head` holds the last sequence number and hash, so cutting lines off the end shows too.
 * Appends from several opsmate processes are serialised by a lock file next to the log.
 *
 * The chain is not signed: someone who can write the file can rebuild the whole chain. Ship the
 * lines (or the head hash) somewhere they cannot write for protection against that.
 */
export class AuditLog {
  readonly path: string;
  readonly #now: () => Date;

  constructor(path: string, options: { now?: () => Date } = {}) {
    this.path = path;
    this.#now = options.now ?? (() => new Date());
  }

  /** Creates the log's folder and checks the file can be appended to. Throws a ConfigError. */
  prepare(): void {
    try {
      mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
      closeSync(openSync(this.path, 'a', 0o600));
    } catch (error) {
      throw new ConfigError(`cannot write the audit log ${this.path}: ${errorMessage(error)}`, {
        hint: 'fix its permissions or choose another file with --audit-log (env OPSMATE_AUDIT_LOG)',
      });
    }
  }

  /** Appends one entry under the lock and returns it as written. Rejects with an AuditError. */
  async append(record: AuditRecord, options: { signal?: AbortSignal } = {}): Promise<AuditEntry> {
    this.prepare();
    const release = await this.#lock(options.signal);
    try {
      const last = lastEntry(this.path);
      const body = JSON.stringify({
        v: AUDIT_FORMAT_VERSION,
        seq: last.seq + 1,
        time: this.#now().toISOString(),
        ...record,
        prev: last.hash,
      });
      const hash = sha256(body);
      const line = `${body.slice(0, -1)},"hash":"${hash}"}\n`;
      const fd = openSync(this.path, 'a', 0o600);
      try {
        writeSync(fd, line);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      writeHead(this.path, { seq: last.seq + 1, hash });
      return JSON.parse(line) as AuditEntry;
    } catch (error) {
      throw new AuditError(`cannot append to the audit log ${this.path}: ${errorMessage(error)}`, {
        cause: error,
      });
    } finally {
      release();
    }
  }

  async #lock(signal: AbortSignal | undefined): Promise<() => void> {
    const lockPath = `${this.path}.lock`;
    const lock = await acquireFileLock(lockPath, {
      waitMs: LOCK_TIMEOUT_MS,
      staleAfterMs: STALE_LOCK_MS,
      ...(signal ? { signal } : {}),
    });
    if (!lock.acquired) {
      throw new AuditError(`the audit log ${this.path} stayed locked for ${LOCK_TIMEOUT_MS / 1000} s`, {
        hint: `if no other opsmate is running, remove ${lockPath}`,
      });
    }
    return lock.release;
  }
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Sequence number and hash of the log's last line; a fresh chain for an empty log. */
function lastEntry(path: string): { seq: number; hash: string } {
  const line = lastLine(path);
  if (line === undefined) return { seq: 0, hash: GENESIS_HASH };
  const parsed = parseLine(line);
  if (parsed.entry) return { seq: parsed.entry.seq, hash: parsed.entry.hash };
  // A damaged last line (a crash mid-write): chain to its text so verify still points at it.
  const seq = /"seq":(\d+)/.exec(line);
  return { seq: seq ? Number(seq[1]) : 0, hash: sha256(line) };
}

/** The last non-empty line of a file, read from the end. */
function lastLine(path: string): string | undefined {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    let chunkSize = 64 * 1024;
    for (;;) {
      const start = Math.max(0, size - chunkSize);
      const buffer = Buffer.alloc(size - start);
      readSync(fd, buffer, 0, buffer.length, start);
      const text = buffer.toString('utf8').replace(/\n+$/, '');
      const newline = text.lastIndexOf('\n');
      if (newline >= 0 || start === 0) return text.length === 0 ? undefined : text.slice(newline + 1);
      chunkSize *= 4;
    }
  } finally {
    closeSync(fd);
  }
}

interface HeadRecord {
  seq: number;
  hash: string;
}

function headPath(path: string): string {
  return `${path}.head`;
}

function writeHead(path: string, head: HeadRecord): void {
  const temporary = `${headPath(path)}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(head)}\n`, { mode: 0o600 });
  renameSync(temporary, headPath(path));
}

function parseLine(line: string): { entry?: AuditEntry; problem?: string } {
  const match = /^(\{.*),"hash":"([0-9a-f]{64})"\}$/.exec(line);
  if (!match) return { problem: 'is not an audit entry (no hash at the end)' };
  const body = `${match[1]}}`;
  if (sha256(body) !== match[2]) return { problem: 'was changed: its content does not match its hash' };
  try {
    return { entry: JSON.parse(line) as AuditEntry };
  } catch {
    return { problem: 'is not valid JSON' };
  }
}

/** A broken link, with the 1-based line number where it shows. */
export interface AuditProblem {
  line: number;
  message: string;
}

export interface AuditVerification {
  entries: number;
  /** The first place the chain breaks; undefined when the log is intact. */
  problem?: AuditProblem;
  /** Things worth saying that do not prove tampering (no head file, head behind after a crash). */
  warnings: string[];
}

/**
 * Checks every line's hash and its link to the line before, then the head file against the last
 * line. Reports the first problem only: after a break, later lines cannot be trusted either.
 */
export function verifyAuditLog(path: string): AuditVerification {
  if (!existsSync(path)) {
    throw new ConfigError(`audit log ${path} does not exist`, {
      hint: 'choose the file with --audit-log (env OPSMATE_AUDIT_LOG)',
    });
  }
  const lines = readFileSync(path, 'utf8').split('\n');
  if (lines.at(-1) === '') lines.pop();
  const warnings: string[] = [];
  let previous: HeadRecord = { seq: 0, hash: GENESIS_HASH };
  for (const [index, line] of lines.entries()) {
    const number = index + 1;
    const parsed = parseLine(line);
    if (!parsed.entry)
      return {
        entries: index,
        problem: { line: number, message: `line ${number} ${parsed.problem}` },
        warnings,
      };
    const entry = parsed.entry;
    if (entry.prev !== previous.hash || entry.seq !== previous.seq + 1) {
      const message =
        entry.seq > previous.seq + 1
          ? `line ${number} is entry ${entry.seq} but entry ${previous.seq + 1} was expected: ${entry.seq - previous.seq - 1} entr${entry.seq - previous.seq - 1 === 1 ? 'y was' : 'ies were'} deleted before it`
          : `line ${number} does not follow line ${index}: a line was inserted, reordered or replaced`;
      return { entries: index, problem: { line: number, message }, warnings };
    }
    previous = { seq: entry.seq, hash: entry.hash };
  }
  const head = readHead(path);
  if (head === undefined) {
    warnings.push(`no head file ${headPath(path)}: lines cut off the end would not show`);
  } else if (head.seq > previous.seq) {
    return {
      entries: lines.length,
      problem: {
        line: lines.length + 1,
        message: `the log ends at entry ${previous.seq} but ${headPath(path)} records entry ${head.seq}: ${head.seq - previous.seq} entr${head.seq - previous.seq === 1 ? 'y was' : 'ies were'} cut off the end`,
      },
      warnings,
    };
  } else if (head.seq === previous.seq && head.hash !== previous.hash) {
    return {
      entries: lines.length,
      problem: {
        line: lines.length,
        message: `line ${lines.length} does not match the hash in ${headPath(path)}`,
      },
      warnings,
    };
  } else if (head.seq < previous.seq) {
    warnings.push(
      `${headPath(path)} records entry ${head.seq}, behind the log's last entry ${previous.seq} (an interrupted append?)`,
    );
  }
  return { entries: lines.length, warnings };
}

function readHead(path: string): HeadRecord | undefined {
  try {
    const head = JSON.parse(readFileSync(headPath(path), 'utf8')) as Partial<HeadRecord>;
    return typeof head.seq === 'number' && typeof head.hash === 'string'
      ? { seq: head.seq, hash: head.hash }
      : undefined;
  } catch {
    return undefined;
  }
}
