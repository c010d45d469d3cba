import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { AuditLog, verifyAuditLog, type AuditRecord } from './audit-log.js';

const dir = mkdtempSync(join(tmpdir(), 'opsmate-audit-'));
after(() => rmSync(dir, { recursive: true, force: true }));

let counter = 0;
function freshPath(): string {
  return join(dir, `audit-${++counter}.jsonl`);
}

function record(command: string): AuditRecord {
  return {
    runtime: 'ssh',
    target: { host: 'db-1' },
    sessionId: 'session-1',
    instruction: 'why is the disk full?',
    command,
    outcome: 'approved',
    decidedBy: 'policy',
    rule: 'default',
    exitCode: 0,
    durationMs: 12,
    outputBytes: 100,
  };
}

async function logWith(count: number): Promise<{ path: string; lines: string[] }> {
  const path = freshPath();
  const log = new AuditLog(path);
  for (let index = 1; index <= count; index++) await log.append(record(`echo ${index}`));
  return { path, lines: readFileSync(path, 'utf8').trimEnd().split('\n') };
}

function rewrite(path: string, lines: string[]): void {
  writeFileSync(path, `${lines.join('\n')}\n`);
}

describe('AuditLog', () => {
  it('appends hash-chained JSON lines with everything the trail needs', async () => {
    const { path, lines } = await logWith(3);
    assert.equal(lines.length, 3);
    const entries = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    assert.equal(entries[0]!.seq, 1);
    assert.equal(entries[0]!.prev, '0'.repeat(64));
    assert.equal(entries[1]!.prev, entries[0]!.hash);
    assert.equal(entries[2]!.command, 'echo 3');
    for (const key of [
      'time',
      'runtime',
      'target',
      'sessionId',
      'instruction',
      'exitCode',
      'durationMs',
      'outputBytes',
    ]) {
      assert.ok(key in entries[0]!, key);
    }
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.deepEqual(verifyAuditLog(path), { entries: 3, warnings: [] });
  });

  it('detects an edited line and names it', async () => {
    const { path, lines } = await logWith(4);
    lines[2] = lines[2]!.replace('"exitCode":0', '"exitCode":1');
    rewrite(path, lines);
    const result = verifyAuditLog(path);
    assert.equal(result.problem?.line, 3);
    assert.match(result.problem!.message, /line 3 was changed/);
  });

  it('detects an inserted line, even one with a valid hash of its own', async () => {
    const { path, lines } = await logWith(4);
    const other = await logWith(1);
    lines.splice(2, 0, other.lines[0]!);
    rewrite(path, lines);
    const result = verifyAuditLog(path);
    assert.equal(result.problem?.line, 3);
    assert.match(result.problem!.message, /line 3 does not follow line 2/);
  });

  it('detects a deleted line at the line after the gap', async () => {
    const { path, lines } = await logWith(5);
    lines.splice(1, 1);
    rewrite(path, lines);
    const result = verifyAuditLog(path);
    assert.equal(result.problem?.line, 2);
    assert.match(result.problem!.message, /entry 3 but entry 2 was expected: 1 entry was deleted/);
  });

  it('detects lines cut off the end through the head file', async () => {
    const { path, lines } = await logWith(5);
    rewrite(path, lines.slice(0, 3));
    const result = verifyAuditLog(path);
    assert.equal(result.problem?.line, 4);
    assert.match(result.problem!.message, /cut off the end/);
  });

  it('detects a replaced last line and a line that is not an entry', async () => {
    const { path, lines } = await logWith(3);
    rewrite(path, [...lines.slice(0, 2), 'rm -rf / # hidden']);
    assert.match(verifyAuditLog(path).problem!.message, /line 3 is not an audit entry/);
  });

  it('warns, without failing, when the head file is missing', async () => {
    const { path } = await logWith(2);
    rmSync(`${path}.head`);
    const result = verifyAuditLog(path);
    assert.equal(result.problem, undefined);
    assert.match(result.warnings[0]!, /no head file/);
  });

  it('keeps one chain when several processes append at once', async () => {
    const path = freshPath();
    const moduleUrl = new URL('./audit-log.ts', import.meta.url).href;
    const script = `
      const { AuditLog } = await import(${JSON.stringify(moduleUrl)});
      const log = new AuditLog(process.argv[1]);
      for (let i = 0; i < 25; i++) {
        await log.append({ runtime: 'local', target: {}, command: 'echo ' + process.pid + ' ' + i,
          outcome: 'approved', decidedBy: 'policy', exitCode: 0, durationMs: 1, outputBytes: 2 });
      }`;
    const root = fileURLToPath(new URL('../..', import.meta.url));
    await Promise.all(
      [1, 2, 3].map(
        () =>
          new Promise<void>((resolve, reject) => {
            const child = spawn(
              process.execPath,
              ['--import', 'tsx', '--input-type=module', '-e', script, path],
              {
                cwd: root,
                stdio: ['ignore', 'inherit', 'inherit'],
              },
            );
            child.on('error', reject);
            child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`writer exited ${code}`))));
          }),
      ),
    );
    const result = verifyAuditLog(path);
    assert.equal(result.problem, undefined, result.problem?.message);
    assert.equal(result.entries, 75);
  });

  it('fails to prepare a log it cannot write, with a hint', () => {
    const blocker = join(dir, 'not-a-dir');
    writeFileSync(blocker, '');
    assert.throws(() => new AuditLog(join(blocker, 'audit.jsonl')).prepare(), /cannot write the audit log/);
  });
});
