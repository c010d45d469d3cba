import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { ConfigError } from '../errors/opsmate-error.js';
import { processAlive } from '../process/file-lock.js';
import {
  GENESIS_HASH,
  headPath,
  parseLine,
  sha256,
  type AuditDecision,
  type AuditFinish,
  type AuditHead,
  type AuditRecord,
  type AuditV1Entry,
} from './audit-format.js';

/** A broken link, with the 1-based line number where it shows. */
export interface AuditProblem {
  line: number;
  message: string;
}

/** A command with a "started" record and no "finished" one. */
export interface UnfinishedCommand {
  /** 1-based line of its started record. */
  line: number;
  /** Its place among all the commands of the log, from 1. */
  number: number;
  time: string;
  command: string;
  /** The opsmate process that wrote it, and the host it ran on. */
  pid: number | undefined;
  host: string | undefined;
  /** That process is still alive on this host: it may still be running the command. */
  writerAlive: boolean;
}

export interface AuditVerification {
  /** Records (lines) checked. */
  entries: number;
  /** Commands recorded: started or refused. */
  commands: number;
  /** The first place a chain breaks; undefined when the log is intact. */
  problem?: AuditProblem;
  /** Things worth saying that do not prove tampering (no head file, a write cut short...). */
  warnings: string[];
  /** Commands that started and have no finished record (opsmate was killed while they ran). */
  unfinished: UnfinishedCommand[];
}

interface WriterState {
  n: number;
  hash: string;
  line: number;
  pid: number | undefined;
  host: string | undefined;
  running: Map<number, { line: number; number: number; time: string; command: string }>;
}

/** A v2 record cut short (a full disk, a crash mid-write): it starts like one and has no hash. */
const CUT_RECORD = /^\{"v":2,"seg":"[0-9a-f]+","n":\d+/;

/**
 * Checks every line's own hash and its link to the line it follows, then the head file against
 * the records. v1 lines (one chain) and v2 records (one chain per writer) are both understood.
 * Reports the first problem only: after a break, later lines cannot be trusted either. Commands
 * that started and never finished are listed, not treated as tampering.
 */
export function verifyAuditLog(path: string): AuditVerification {
  if (!existsSync(path)) {
    throw new ConfigError(`audit log ${path} does not exist`, {
      hint: 'choose the file with --audit-log (env OPSMATE_AUDIT_LOG)',
    });
  }
  const text = readFileSync(path, 'utf8');
  const lines = text.split('\n');
  const cutLast = text.length > 0 && !text.endsWith('\n') ? lines.pop() : undefined;
  if (lines.at(-1) === '') lines.pop();
  const warnings: string[] = [];
  const hashes = new Set<string>();
  const writers = new Map<string, WriterState>();
  let v1 = { seq: 0, hash: GENESIS_HASH };
  let sawV2 = false;
  let entries = 0;
  let commands = 0;
  const broken = (line: number, message: string): AuditVerification => ({
    entries,
    commands,
    problem: { line, message },
    warnings,
    unfinished: [],
  });

  for (const [index, line] of lines.entries()) {
    const number = index + 1;
    if (line === '') continue;
    const parsed = parseLine(line);
    if (!parsed.ok) {
      if (parsed.problem === 'changed') {
        return broken(number, `line ${number} was changed: its content does not match its hash`);
      }
      if (CUT_RECORD.test(line)) {
        warnings.push(
          `line ${number} is an incomplete record: a write was cut short by a full disk or a crash; its writer's chain goes on without it`,
        );
        hashes.add(sha256(line));
        continue;
      }
      return broken(
        number,
        `line ${number} ${parsed.problem === 'not-json' ? 'is not valid JSON' : 'is not an audit entry (no hash at the end)'}`,
      );
    }
    const entry = parsed.entry;
    if (entry.v === 1) {
      if (sawV2) {
        return broken(
          number,
          `line ${number} is a v1 entry after v2 records: an older opsmate wrote to this log, or the line was moved`,
        );
      }
      if (entry.prev !== v1.hash || entry.seq !== v1.seq + 1) {
        const gap = entry.seq - v1.seq - 1;
        return broken(
          number,
          entry.seq > v1.seq + 1
            ? `line ${number} is entry ${entry.seq} but entry ${v1.seq + 1} was expected: ${gap} entr${gap === 1 ? 'y was' : 'ies were'} deleted before it`
            : `line ${number} does not follow line ${index}: a line was inserted, reordered or replaced`,
        );
      }
      v1 = { seq: entry.seq, hash: parsed.hash };
    } else if (entry.v === 2) {
      sawV2 = true;
      const problem = checkRecord({ entry, number, hashes, writers, nextCommand: commands + 1 });
      if (problem) return broken(number, problem);
      if (entry.type === 'started' || entry.type === 'refused') commands++;
      entries++;
      hashes.add(parsed.hash);
      continue;
    } else {
      return broken(
        number,
        `line ${number} has an unknown format version ${String((entry as { v?: unknown }).v)}`,
      );
    }
    entries++;
    commands++;
    hashes.add(parsed.hash);
  }

  if (cutLast !== undefined && cutLast !== '') {
    warnings.push(
      `the last line (${lines.length + 1}) is incomplete: a write was cut short by a full disk or a crash, or it is being written right now`,
    );
  }
  const headProblem = checkHead({ path, writers, hashes, v1, sawV2, warnings, lineCount: lines.length });
  if (headProblem) return broken(headProblem.line, headProblem.message);
  const unfinished: UnfinishedCommand[] = [];
  for (const writer of writers.values()) {
    const alive = writer.pid !== undefined && writer.host === hostname() && processAlive(writer.pid);
    for (const started of writer.running.values()) {
      unfinished.push({ ...started, pid: writer.pid, host: writer.host, writerAlive: alive });
    }
  }
  unfinished.sort((a, b) => a.line - b.line);
  return { entries, commands, warnings, unfinished };
}

/** What is wrong with one v2 record in its writer's chain, or undefined. */
function checkRecord(input: {
  entry: AuditRecord;
  number: number;
  hashes: Set<string>;
  writers: Map<string, WriterState>;
  nextCommand: number;
}): string | undefined {
  const { entry, number, hashes, writers } = input;
  const writer = writers.get(entry.seg);
  if (entry.type === 'open') {
    if (writer || entry.n !== 1) {
      return `line ${number} starts writer ${entry.seg} again: a line was copied or inserted`;
    }
    if (entry.prev !== GENESIS_HASH && !hashes.has(entry.prev)) {
      return `line ${number} starts writer ${entry.seg} after a line that is not in the log before it: a line was deleted, or lines were reordered`;
    }
    writers.set(entry.seg, {
      n: 1,
      hash: entry.hash,
      line: number,
      pid: entry.pid,
      host: entry.host,
      running: new Map(),
    });
    return undefined;
  }
  if (!writer) {
    return `line ${number} belongs to writer ${entry.seg}, whose first record is not in the log before it: lines were deleted or reordered`;
  }
  if (entry.n !== writer.n + 1 || entry.prev !== writer.hash) {
    const gap = entry.n - writer.n - 1;
    return entry.n > writer.n + 1
      ? `line ${number} is record ${entry.n} of writer ${entry.seg} but record ${writer.n + 1} was expected: ${gap} record${gap === 1 ? ' was' : 's were'} deleted before it`
      : `line ${number} does not follow the previous record of writer ${entry.seg} (line ${writer.line}): a line was inserted, reordered or replaced`;
  }
  if (entry.seen !== undefined && !hashes.has(entry.seen)) {
    return `line ${number} follows a line of another writer that is not in the log before it: a line was deleted or moved`;
  }
  if (entry.type === 'started') {
    writer.running.set(entry.n, {
      line: number,
      number: input.nextCommand,
      time: entry.time,
      command: entry.command,
    });
  } else if (entry.type === 'finished') {
    if (!writer.running.delete(entry.of)) {
      return `line ${number} finishes record ${entry.of} of writer ${entry.seg}, which is not a started command without a result: a line was changed or copied`;
    }
  }
  writer.n = entry.n;
  writer.hash = entry.hash;
  writer.line = number;
  return undefined;
}

/** Compares the head file with the records; warns when it is missing or behind. */
function checkHead(input: {
  path: string;
  writers: Map<string, WriterState>;
  hashes: Set<string>;
  v1: { seq: number; hash: string };
  sawV2: boolean;
  warnings: string[];
  lineCount: number;
}): AuditProblem | undefined {
  const { path, v1, warnings, lineCount } = input;
  const head = readHead(path);
  const end = lineCount + 1;
  if (head === undefined) {
    warnings.push(`no readable head file ${headPath(path)}: lines cut off the end would not show`);
    return undefined;
  }
  if (head.seg !== undefined && head.n !== undefined) {
    const writer = input.writers.get(head.seg);
    if (!writer) {
      return {
        line: end,
        message: `${headPath(path)} names writer ${head.seg}, which is not in the log: its records were deleted or cut off the end`,
      };
    }
    if (writer.n < head.n) {
      const gap = head.n - writer.n;
      return {
        line: end,
        message: `the log ends writer ${head.seg} at record ${writer.n} but ${headPath(path)} records record ${head.n}: ${gap} record${gap === 1 ? ' was' : 's were'} cut off the end or deleted`,
      };
    }
    if (!input.hashes.has(head.hash)) {
      return {
        line: end,
        message: `record ${head.n} of writer ${head.seg} does not match the hash in ${headPath(path)}: it was changed`,
      };
    }
    return undefined;
  }
  if (head.seq === undefined) {
    warnings.push(`the head file ${headPath(path)} is not one opsmate wrote`);
    return undefined;
  }
  // A v1 head: an older opsmate wrote it, and no v2 writer has made a record durable since.
  if (head.seq > v1.seq) {
    const gap = head.seq - v1.seq;
    return {
      line: end,
      message: `the log ends at entry ${v1.seq} but ${headPath(path)} records entry ${head.seq}: ${gap} entr${gap === 1 ? 'y was' : 'ies were'} cut off the end`,
    };
  }
  if (head.seq === v1.seq && head.hash !== v1.hash) {
    return { line: lineCount, message: `line ${lineCount} does not match the hash in ${headPath(path)}` };
  }
  if (head.seq < v1.seq) {
    warnings.push(
      `${headPath(path)} records entry ${head.seq}, behind the log's last entry ${v1.seq} (an interrupted append?)`,
    );
  } else if (input.sawV2) {
    warnings.push(`${headPath(path)} predates the v2 records: records cut off the end would not show`);
  }
  return undefined;
}

function readHead(path: string): AuditHead | undefined {
  try {
    const head = JSON.parse(readFileSync(headPath(path), 'utf8')) as Partial<AuditHead>;
    if (typeof head.hash !== 'string') return undefined;
    if (typeof head.seg === 'string' && typeof head.n === 'number') {
      return { seg: head.seg, n: head.n, hash: head.hash };
    }
    return typeof head.seq === 'number' ? { seq: head.seq, hash: head.hash } : { hash: head.hash };
  } catch {
    return undefined;
  }
}

/** One line about a command that started and never finished. */
export function describeUnfinished(command: UnfinishedCommand): string {
  const writer = `opsmate${command.pid !== undefined ? ` (pid ${command.pid}${command.host ? ` on ${command.host}` : ''})` : ''}`;
  const why = command.writerAlive
    ? `${writer} is still running, so it may still be running the command`
    : `${writer} was killed while it ran, or the machine went down`;
  return `command #${command.number} (line ${command.line}) started at ${command.time} has no finished record: ${why}: ${command.command}`;
}

/** One command as the log tells it: the decision, and the result when there is one. */
export interface AuditCommandView extends AuditDecision, Partial<AuditFinish> {
  time: string;
  /** A result was recorded (always for refused commands and v1 lines). */
  finished: boolean;
}

/**
 * The commands in a log, one object each, in the order they were recorded: a v1 line, a refused
 * record, or a started record merged with its finished record. Lines that are not intact records
 * are skipped; use {@link verifyAuditLog} to find out about them.
 */
export function readAuditCommands(path: string): AuditCommandView[] {
  const commands: AuditCommandView[] = [];
  const running = new Map<string, AuditCommandView>();
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const parsed = parseLine(line);
    if (!parsed.ok) continue;
    const entry = parsed.entry;
    if (entry.v === 1) {
      commands.push({ ...stripChain(entry as AuditV1Entry), finished: true });
      continue;
    }
    if (entry.type === 'started' || entry.type === 'refused') {
      const view: AuditCommandView = {
        ...stripChain(entry),
        ...(entry.type === 'refused' ? { exitCode: null } : {}),
        finished: entry.type === 'refused',
      };
      commands.push(view);
      if (entry.type === 'started') running.set(`${entry.seg}/${entry.n}`, view);
    } else if (entry.type === 'finished') {
      const view = running.get(`${entry.seg}/${entry.of}`);
      if (!view) continue;
      const { of: _of, time: _time, ...finish } = stripChain(entry);
      Object.assign(view, finish, { finished: true });
    }
  }
  return commands;
}

function stripChain<T extends object>(
  entry: T,
): Omit<T, 'v' | 'seg' | 'n' | 'type' | 'prev' | 'seen' | 'hash' | 'seq'> {
  const copy = { ...entry } as Record<string, unknown>;
  for (const key of ['v', 'seg', 'n', 'type', 'prev', 'seen', 'hash', 'seq']) delete copy[key];
  return copy as Omit<T, 'v' | 'seg' | 'n' | 'type' | 'prev' | 'seen' | 'hash' | 'seq'>;
}
