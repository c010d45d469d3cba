import { createHash } from 'node:crypto';

/**
 * Version of the audit line format. v1 (opsmate 0.1): one line per command, written after it ran,
 * in one chain serialised by a lock file. v2: a "started" record before a command runs and a
 * "finished" record after it, in one chain per writer (see docs/safety.md, "Audit log").
 */
export const AUDIT_FORMAT_VERSION = 2;
/** `prev` of the first line of a log, and of the first record of a writer that found the log empty. */
export const GENESIS_HASH = '0'.repeat(64);

/** How a command came to run (`approved`, `edited`), or not (`denied`, `cancelled`). */
export type AuditOutcome = 'approved' | 'edited' | 'denied' | 'cancelled';

/** What was asked to run and who let it through, or stopped it. Secrets are masked before they get here. */
export interface AuditDecision {
  runtime: string;
  /** Facts naming the target, from `Runtime.target()`: host, container, pod... */
  target: Record<string, string>;
  sessionId?: string;
  /** The user's instruction that led to the command; absent for `opsmate exec`. */
  instruction?: string;
  /** The command that runs (or would have); for a tool call, `Tool {json arguments}`. */
  command: string;
  /** Set for a call of a tool other than the shell: its name (`HttpCheck`, `mcp__server__tool`). */
  tool?: string;
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
  /** Files on the target a tool call changes (a file tool's write): what it will write. */
  files?: AuditFileChange[];
}

/** A file a tool call changes on the target, as the audit log keeps it: digests, never contents. */
export interface AuditFileChange {
  /** Absolute path on the target. */
  path: string;
  /** SHA-256 (hex) of the content before the call; null when the file did not exist. */
  before: string | null;
  /** SHA-256 (hex) of the content after the call; null when the call removes the file. */
  after: string | null;
}

/** How a command that started ended. */
export interface AuditFinish {
  /** Exit status; null when it had none (killed, cancelled, lost with its shell, runtime failure). */
  exitCode: number | null;
  durationMs: number;
  /** Bytes the command wrote to stdout and stderr together. */
  outputBytes: number;
  timedOut?: boolean;
  cancelled?: boolean;
  /** The signal opsmate received that made it stop the command (`SIGINT`, `SIGTERM`, `SIGHUP`). */
  signal?: string;
  /** The shell ended during the command (`exit`, a crash, or opsmate killed it to stop the command). */
  shellExited?: boolean;
  /** Secret values masked in what the model was shown. */
  redactions?: number;
  /** The runtime failed instead of reporting on the command; the command may or may not have run. */
  error?: string;
  /** A tool call's files as they were found after it acted (the `after` digests read back). */
  files?: AuditFileChange[];
}

/** The kinds of v2 records. */
export type AuditRecordType = 'open' | 'started' | 'finished' | 'refused';

/** Fields every v2 record has. */
export interface AuditRecordHeader {
  v: 2;
  /** The writer's chain: one per opsmate process (per open log). */
  seg: string;
  /** Position in the writer's chain, from 1 (the `open` record). */
  n: number;
  type: AuditRecordType;
  time: string;
  /** Hash of the writer's previous record; for `n: 1`, of the log's last line when the writer began. */
  prev: string;
  /** Hash of the log's last line when it was written by another writer since this writer's last record. */
  seen?: string;
  hash: string;
}

export type AuditOpenRecord = AuditRecordHeader & { type: 'open'; pid: number; host: string; sync: string };
export type AuditStartedRecord = AuditRecordHeader & AuditDecision & { type: 'started' };
export type AuditRefusedRecord = AuditRecordHeader & AuditDecision & { type: 'refused' };
export type AuditFinishedRecord = AuditRecordHeader & AuditFinish & { type: 'finished'; of: number };
export type AuditRecord = AuditOpenRecord | AuditStartedRecord | AuditRefusedRecord | AuditFinishedRecord;

/** A v1 line: the decision and the result together, written after the command. */
export interface AuditV1Entry extends AuditDecision, Partial<AuditFinish> {
  v: 1;
  seq: number;
  time: string;
  prev: string;
  hash: string;
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Serialises a record: its JSON text, then the SHA-256 of that text as the last field. */
export function sealRecord(body: Record<string, unknown>): { line: string; hash: string } {
  const text = JSON.stringify(body);
  const hash = sha256(text);
  return { line: `${text.slice(0, -1)},"hash":"${hash}"}\n`, hash };
}

const SEALED_LINE = /^(\{.*),"hash":"([0-9a-f]{64})"\}$/;

/** A line checked against its own hash: the parsed entry, or what is wrong with it. */
export type ParsedLine =
  | { ok: true; entry: AuditRecord | AuditV1Entry; hash: string }
  | { ok: false; problem: 'not-an-entry' | 'changed' | 'not-json' };

export function parseLine(line: string): ParsedLine {
  const match = SEALED_LINE.exec(line);
  if (!match) return { ok: false, problem: 'not-an-entry' };
  if (sha256(`${match[1]}}`) !== match[2]) return { ok: false, problem: 'changed' };
  try {
    return { ok: true, entry: JSON.parse(line) as AuditRecord | AuditV1Entry, hash: match[2]! };
  } catch {
    return { ok: false, problem: 'not-json' };
  }
}

/**
 * The hash a later record uses to point at a line: the line's own hash when it is intact, else the
 * hash of its text, so a damaged line (a write cut short) can still be pointed at.
 */
export function lineHash(line: string): string {
  const parsed = parseLine(line);
  return parsed.ok ? parsed.hash : sha256(line);
}

export function headPath(path: string): string {
  return `${path}.head`;
}

/** Size of the head file: one JSON object padded with spaces, so it is always overwritten whole. */
export const HEAD_FILE_BYTES = 160;

/** What the head file says: the last record a writer made durable. v1 heads have `seq` instead. */
export interface AuditHead {
  v?: number;
  seg?: string;
  n?: number;
  seq?: number;
  hash: string;
}
