import { randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { ConfigError, errorMessage } from '../errors/opsmate-error.js';
import { SESSION_FORMAT_VERSION, type SessionRecord, type SessionSummary } from './session-record.js';

/** Bytes read from the start of a session file to find its summary line. */
const SUMMARY_READ_BYTES = 64 * 1024;
const SESSION_FILE = /^(\d{8}-\d{6}-[0-9a-f]{4})\.json$/;

/**
 * Saved sessions, one file each in `<home>/sessions/`: a summary on the first line (so listing
 * reads little), the whole record on the second. Files are written whole (temp file, rename), so
 * a reader never sees half a session, with mode 0600 in a 0700 folder.
 */
export class SessionStore {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = dir;
  }

  /** A new id: the start time (UTC) and 4 random hex digits, e.g. `20261201-153012-a3f9`. */
  static newId(now = new Date()): string {
    const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
    return `${stamp}-${randomBytes(2).toString('hex')}`;
  }

  pathOf(id: string): string {
    return join(this.dir, `${id}.json`);
  }

  /** Writes the session whole. Throws an Error saying why when it cannot. */
  save(record: SessionRecord): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const summary: SessionSummary = {
      version: SESSION_FORMAT_VERSION,
      id: record.id,
      kind: record.kind,
      createdAt: record.createdAt,
      updatedAt: record.updatedAt,
      model: record.model,
      runtime: record.runtime,
      target: record.target,
      ...(record.policyProfile !== undefined ? { policyProfile: record.policyProfile } : {}),
      turns: record.turns,
      title: record.title,
      usage: record.usage,
      ...(record.costUsd !== undefined ? { costUsd: record.costUsd } : {}),
      ...(record.lastStopReason !== undefined ? { lastStopReason: record.lastStopReason } : {}),
    };
    const path = this.pathOf(record.id);
    const temporary = `${path}.${process.pid}.tmp`;
    writeFileSync(temporary, `${JSON.stringify(summary)}\n${JSON.stringify(record)}\n`, { mode: 0o600 });
    renameSync(temporary, path);
  }

  /** The summaries of every session, newest first. Unreadable files are skipped. */
  list(): SessionSummary[] {
    if (!existsSync(this.dir)) return [];
    const summaries: SessionSummary[] = [];
    for (const name of readdirSync(this.dir)) {
      if (!SESSION_FILE.test(name)) continue;
      const summary = readSummary(join(this.dir, name));
      if (summary) summaries.push(summary);
    }
    return summaries.sort((a, b) => (a.updatedAt < b.updatedAt ? 1 : a.updatedAt > b.updatedAt ? -1 : 0));
  }

  /**
   * A session by id, or by a prefix of its id (or its 4-letter suffix) that names only one.
   * Throws a ConfigError when none or several match.
   */
  load(idOrPrefix: string): SessionRecord {
    const wanted = idOrPrefix.trim();
    const ids = this.#ids();
    const exact = ids.find((id) => id === wanted);
    const matches = exact ? [exact] : ids.filter((id) => id.startsWith(wanted) || id.endsWith(`-${wanted}`));
    if (matches.length === 0) {
      throw new ConfigError(`no session ${JSON.stringify(wanted)} in ${this.dir}`, {
        hint: 'see `opsmate sessions list` for the ids',
      });
    }
    if (matches.length > 1) {
      throw new ConfigError(
        `session ${JSON.stringify(wanted)} is ambiguous: ${matches.slice(0, 5).join(', ')}`,
        {
          hint: 'give more of the id',
        },
      );
    }
    return this.#read(matches[0]!);
  }

  /** The session updated last, optionally of one kind only. */
  latest(kind?: SessionSummary['kind']): SessionRecord | undefined {
    const summary = this.list().find((candidate) => kind === undefined || candidate.kind === kind);
    return summary ? this.#read(summary.id) : undefined;
  }

  #ids(): string[] {
    if (!existsSync(this.dir)) return [];
    return readdirSync(this.dir)
      .map((name) => SESSION_FILE.exec(name)?.[1])
      .filter((id): id is string => id !== undefined);
  }

  #read(id: string): SessionRecord {
    const path = this.pathOf(id);
    try {
      const lines = readFileSync(path, 'utf8').split('\n');
      const record = JSON.parse(lines[1] ?? '') as SessionRecord;
      if (record.version !== SESSION_FORMAT_VERSION) {
        throw new Error(`format version ${String(record.version)}, expected ${SESSION_FORMAT_VERSION}`);
      }
      return record;
    } catch (error) {
      throw new ConfigError(`cannot read the session file ${path}: ${errorMessage(error)}`, {
        hint: 'it may have been edited or cut short; other sessions are not affected',
      });
    }
  }
}

function readSummary(path: string): SessionSummary | undefined {
  let descriptor: number | undefined;
  try {
    descriptor = openSync(path, 'r');
    const buffer = Buffer.alloc(SUMMARY_READ_BYTES);
    const length = readSync(descriptor, buffer, 0, buffer.length, 0);
    const text = buffer.subarray(0, length).toString('utf8');
    const end = text.indexOf('\n');
    if (end < 0) return undefined;
    const summary = JSON.parse(text.slice(0, end)) as SessionSummary;
    return summary.version === SESSION_FORMAT_VERSION ? summary : undefined;
  } catch {
    return undefined;
  } finally {
    if (descriptor !== undefined) closeSync(descriptor);
  }
}
