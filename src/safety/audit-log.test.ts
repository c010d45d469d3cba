import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import {
  appendFileSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { GENESIS_HASH, sealRecord, type AuditDecision } from './audit-format.js';
import { AuditError, AuditLog } from './audit-log.js';
import { readAuditCommands, verifyAuditLog } from './verify-audit-log.js';

const dir = mkdtempSync(join(tmpdir(), 'opsmate-audit-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const root = fileURLToPath(new URL('../..', import.meta.url));

let counter = 0;
function freshPath(): string {
  return join(dir, `audit-${++counter}.jsonl`);
}

function decision(command: string): AuditDecision {
  return {
    runtime: 'ssh',
    target: { host: 'db-1' },
    sessionId: 'session-1',
    instruction: 'why is the disk full?',
    command,
    outcome: 'approved',
    decidedBy: 'policy',
    rule: 'default',
  };
}

/** A log with `count` commands that started and finished, written by one writer. */
async function logWith(count: number, path = freshPath()): Promise<{ path: string; lines: string[] }> {
  const log = new AuditLog(path);
  log.open();
  for (let index = 1; index <= count; index++) {
    const start = log.started(decision(`echo ${index}`));
    log.finished(start, { exitCode: 0, durationMs: 12, outputBytes: 100 });
  }
  await log.close();
  return { path, lines: readLines(path) };
}

function readLines(path: string): string[] {
  return readFileSync(path, 'utf8').trimEnd().split('\n');
}

function rewrite(path: string, lines: string[]): void {
  writeFileSync(path, `${lines.join('\n')}\n`);
}

function parse(line: string): Record<string, unknown> {
  return JSON.parse(line) as Record<string, unknown>;
}

/** Runs a script with the audit log module loaded as `AuditLog`, in another process. */
function writerProcess(script: string, path: string): Promise<number | null> {
  const moduleUrl = new URL('./audit-log.ts', import.meta.url).href;
  const code = `const { AuditLog } = await import(${JSON.stringify(moduleUrl)});\n${script}`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code, path], {
      cwd: root,
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    child.on('error', reject);
    child.on('exit', (code) => resolve(code));
  });
}

describe('AuditLog', () => {
  it('writes a started record before the command and a finished record after it, in one chain', async () => {
    const path = freshPath();
    const log = new AuditLog(path, { sync: 'durable' });
    log.open();
    const start = log.started(decision('df -h'));
    // Before the command runs, the record is in the file (and named by the head: it is durable).
    const before = readLines(path).map(parse);
    assert.deepEqual(
      before.map((record) => record.type),
      ['open', 'started'],
    );
    const head = parse(readFileSync(`${path}.head`, 'utf8'));
    assert.equal(head.n, start.n);
    assert.equal(head.hash, before[1]!.hash);
    log.finished(start, { exitCode: 0, durationMs: 12, outputBytes: 345, redactions: 1 });
    await log.close();
    const [open, started, finished] = readLines(path).map(parse);
    assert.equal(open!.v, 2);
    assert.equal(open!.prev, GENESIS_HASH);
    assert.equal(open!.pid, process.pid);
    assert.equal(started!.prev, open!.hash);
    assert.equal(started!.command, 'df -h');
    assert.equal(started!.instruction, 'why is the disk full?');
    assert.equal(finished!.prev, started!.hash);
    assert.equal(finished!.of, started!.n);
    assert.equal(finished!.exitCode, 0);
    assert.equal(finished!.redactions, 1);
    assert.equal(new Set([open!.seg, started!.seg, finished!.seg]).size, 1);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.deepEqual(verifyAuditLog(path), { entries: 3, commands: 1, warnings: [], unfinished: [] });
    const [command] = readAuditCommands(path);
    assert.equal(command!.command, 'df -h');
    assert.equal(command!.outputBytes, 345);
    assert.equal(command!.finished, true);
  });

  it('records refused commands, and chains a later writer to the last line of the log', async () => {
    const { path } = await logWith(1);
    const log = new AuditLog(path);
    log.refused({ ...decision('rm -rf /'), outcome: 'denied', reason: 'no' });
    await log.close();
    const lines = readLines(path).map(parse);
    assert.equal(lines[3]!.type, 'open');
    assert.equal(lines[3]!.prev, lines[2]!.hash, 'the new writer starts after the last line');
    assert.notEqual(lines[3]!.seg, lines[0]!.seg);
    const result = verifyAuditLog(path);
    assert.equal(result.problem, undefined, result.problem?.message);
    assert.equal(result.commands, 2);
    assert.equal(readAuditCommands(path)[1]!.outcome, 'denied');
  });

  it('detects an edited line and names it', async () => {
    const { path, lines } = await logWith(4);
    lines[4] = lines[4]!.replace('"exitCode":0', '"exitCode":1');
    rewrite(path, lines);
    const result = verifyAuditLog(path);
    assert.equal(result.problem?.line, 5);
    assert.match(result.problem!.message, /line 5 was changed/);
  });

  it('detects an inserted line, even one with a valid hash of its own', async () => {
    const { path, lines } = await logWith(4);
    const other = await logWith(1);
    lines.splice(2, 0, other.lines[1]!);
    rewrite(path, lines);
    const result = verifyAuditLog(path);
    assert.equal(result.problem?.line, 3);
    assert.match(
      result.problem!.message,
      /line 3 belongs to writer \w+, whose first record is not in the log/,
    );
    // A record of the same writer moved: it no longer follows its predecessor.
    const moved = await logWith(3);
    const swapped = [...moved.lines];
    [swapped[3], swapped[5]] = [swapped[5]!, swapped[3]!];
    rewrite(moved.path, swapped);
    assert.match(
      verifyAuditLog(moved.path).problem!.message,
      /line 4 is record 6 of writer \w+ but record 4/,
    );
  });

  it('detects a deleted line at the line after the gap', async () => {
    const { path, lines } = await logWith(5);
    lines.splice(3, 1);
    rewrite(path, lines);
    const result = verifyAuditLog(path);
    assert.equal(result.problem?.line, 4);
    assert.match(
      result.problem!.message,
      /record 5 of writer \w+ but record 4 was expected: 1 record was deleted/,
    );
  });

  it('detects a whole session deleted, through the next session that started after it', async () => {
    const { path } = await logWith(2);
    await logWith(2, path);
    await logWith(1, path);
    const lines = readLines(path);
    rewrite(path, [...lines.slice(0, 5), ...lines.slice(10)]);
    const result = verifyAuditLog(path);
    assert.equal(result.problem?.line, 6);
    assert.match(result.problem!.message, /starts writer \w+ after a line that is not in the log before it/);
  });

  it('detects lines cut off the end through the head file', async () => {
    const { path, lines } = await logWith(5);
    rewrite(path, lines.slice(0, 6));
    const result = verifyAuditLog(path);
    assert.equal(result.problem?.line, 7);
    assert.match(
      result.problem!.message,
      /at record 6 but .*\.head records record 11: 5 records were cut off the end/,
    );
  });

  it('detects a replaced line that is not an entry', async () => {
    const { path, lines } = await logWith(3);
    rewrite(path, [...lines.slice(0, 2), 'rm -rf / # hidden', ...lines.slice(3)]);
    assert.match(verifyAuditLog(path).problem!.message, /line 3 is not an audit entry/);
  });

  it('warns, without failing, when the head file is missing', async () => {
    const { path } = await logWith(2);
    rmSync(`${path}.head`);
    const result = verifyAuditLog(path);
    assert.equal(result.problem, undefined);
    assert.match(result.warnings[0]!, /no readable head file/);
  });

  it('reports a command that started and never finished, and whether its writer still lives', async () => {
    const path = freshPath();
    const code = await writerProcess(
      `const log = new AuditLog(process.argv[1]);
       const first = log.started({ runtime: 'local', target: {}, command: 'true', outcome: 'approved', decidedBy: 'policy' });
       log.finished(first, { exitCode: 0, durationMs: 1, outputBytes: 0 });
       log.started({ runtime: 'local', target: {}, command: 'sleep 600', outcome: 'approved', decidedBy: 'policy' });
       process.kill(process.pid, 'SIGKILL');`,
      path,
    );
    assert.equal(code, null, 'the writer was killed');
    const result = verifyAuditLog(path);
    assert.equal(result.problem, undefined, result.problem?.message);
    assert.equal(result.unfinished.length, 1);
    const [unfinished] = result.unfinished;
    assert.equal(unfinished!.number, 2);
    assert.equal(unfinished!.line, 4);
    assert.equal(unfinished!.command, 'sleep 600');
    assert.equal(unfinished!.writerAlive, false);

    // A writer that is alive (this process) may still be running its command.
    const live = new AuditLog(freshPath());
    live.started(decision('sleep 1'));
    const running = verifyAuditLog(live.path).unfinished;
    assert.equal(running[0]!.writerAlive, true);
    await live.close();
  });

  it('keeps every chain intact when several processes append at once', async () => {
    const path = freshPath();
    const script = `
      const log = new AuditLog(process.argv[1]);
      log.open();
      for (let i = 0; i < 25; i++) {
        const start = log.started({ runtime: 'local', target: {}, command: 'echo ' + process.pid + ' ' + i,
          outcome: 'approved', decidedBy: 'policy' });
        log.finished(start, { exitCode: 0, durationMs: 1, outputBytes: 2 });
      }
      await log.close();`;
    const codes = await Promise.all([1, 2, 3].map(() => writerProcess(script, path)));
    assert.deepEqual(codes, [0, 0, 0]);
    const result = verifyAuditLog(path);
    assert.equal(result.problem, undefined, result.problem?.message);
    assert.equal(result.commands, 75);
    assert.equal(result.entries, 153);
    assert.deepEqual(result.unfinished, []);
  });

  it('starts on a new line after a write that was cut short, and verify says so', async () => {
    const { path } = await logWith(1);
    appendFileSync(path, '{"v":2,"seg":"0123456789ab","n":4,"type":"started","time":"2026-');
    await logWith(1, path);
    const lines = readLines(path);
    assert.match(lines[3]!, /"time":"2026-$/);
    assert.equal(parse(lines[4]!).type, 'open');
    const result = verifyAuditLog(path);
    assert.equal(result.problem, undefined, result.problem?.message);
    assert.match(result.warnings.join('\n'), /line 4 is an incomplete record/);
  });

  it('starts a new chain in a new file when the log is moved away (rotated) while open', async () => {
    const path = freshPath();
    const log = new AuditLog(path);
    log.finished(log.started(decision('one')), { exitCode: 0, durationMs: 1, outputBytes: 0 });
    renameSync(path, `${path}.1`);
    log.finished(log.started(decision('two')), { exitCode: 0, durationMs: 1, outputBytes: 0 });
    await log.close();
    assert.deepEqual(
      readAuditCommands(path).map((command) => command.command),
      ['two'],
    );
    assert.equal(parse(readLines(path)[0]!).prev, GENESIS_HASH);
    assert.equal(verifyAuditLog(path).problem, undefined);
  });

  it('in written mode, syncs the started record while the command runs', async () => {
    const path = freshPath();
    const log = new AuditLog(path, { sync: 'written' });
    const start = log.started(decision('uptime'));
    assert.equal(readLines(path).length, 2, 'written before the command runs');
    await start.durable;
    assert.equal(parse(readFileSync(`${path}.head`, 'utf8')).n, start.n);
    log.finished(start, { exitCode: 0, durationMs: 1, outputBytes: 0 });
    await log.close();
    assert.equal(verifyAuditLog(path).problem, undefined);
  });

  it('still reads a v1 log, and a v2 writer continues it', async () => {
    const path = freshPath();
    let prev = GENESIS_HASH;
    const v1Lines: string[] = [];
    for (let seq = 1; seq <= 3; seq++) {
      const { line, hash } = sealRecord({
        v: 1,
        seq,
        time: '2026-11-01T00:00:00.000Z',
        ...decision(`echo ${seq}`),
        exitCode: 0,
        durationMs: 1,
        outputBytes: 2,
        prev,
      });
      v1Lines.push(line.trimEnd());
      prev = hash;
    }
    rewrite(path, v1Lines);
    writeFileSync(`${path}.head`, `${JSON.stringify({ seq: 3, hash: prev })}\n`);
    assert.deepEqual(verifyAuditLog(path), { entries: 3, commands: 3, warnings: [], unfinished: [] });
    rewrite(path, v1Lines.slice(0, 2));
    assert.match(verifyAuditLog(path).problem!.message, /ends at entry 2 .* 1 entry was cut off the end/);
    rewrite(path, [v1Lines[0]!, v1Lines[2]!]);
    assert.match(verifyAuditLog(path).problem!.message, /line 2 is entry 3 but entry 2 was expected/);

    rewrite(path, v1Lines);
    await logWith(1, path);
    const lines = readLines(path);
    assert.equal(parse(lines[3]!).prev, prev, 'the v2 writer starts after the last v1 line');
    const result = verifyAuditLog(path);
    assert.equal(result.problem, undefined, result.problem?.message);
    assert.equal(result.commands, 4);
    assert.deepEqual(
      readAuditCommands(path).map((command) => command.command),
      ['echo 1', 'echo 2', 'echo 3', 'echo 1'],
    );
  });

  it('fails to open a log it cannot write, with a hint', () => {
    const blocker = join(dir, 'not-a-dir');
    writeFileSync(blocker, '');
    assert.throws(
      () => new AuditLog(join(blocker, 'audit.jsonl')).open(),
      (error: Error & { hint?: string }) =>
        /cannot write the audit log/.test(error.message) && /--audit-log/.test(error.hint ?? ''),
    );
    const log = new AuditLog(join(blocker, 'audit.jsonl'));
    assert.throws(
      () => log.started(decision('true')),
      (error) => AuditError.isInstance(error),
    );
  });
});
