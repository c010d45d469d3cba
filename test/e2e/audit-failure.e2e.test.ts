// End-to-end: a command that cannot be recorded in the audit log first is not run (fail closed),
// with one error line and a hint for the user and a not-run result for the model. The full disk is
// real: a 64 KiB tmpfs mounted for this file (root only; CI runs as root).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FakeLlmServer, toolResultsOf } from '../../test-support/fake-llm/index.js';
import { integrationSkip } from '../../test-support/integration.js';
import { runCliIsolated } from '../../test-support/run-cli.js';
import { readAuditCommands, verifyAuditLog } from '../../src/safety/verify-audit-log.js';

const scratch = mkdtempSync(join(tmpdir(), 'opsmate-wt-audit-failure-'));
const mountPoint = join(scratch, 'tiny');
mkdirSync(mountPoint);

function mountTinyTmpfs(): string | undefined {
  if (process.getuid?.() !== 0) return 'mounting a tmpfs needs root';
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k,mode=0700', 'tmpfs', mountPoint], {
    encoding: 'utf8',
  });
  return mounted.status === 0 ? undefined : `mount -t tmpfs failed: ${mounted.stderr.trim()}`;
}

const skip = integrationSkip('a small tmpfs (a full disk)', mountTinyTmpfs());
after(() => {
  if (!skip) spawnSync('umount', [mountPoint]);
  rmSync(scratch, { recursive: true, force: true });
});

/** Fills the tmpfs to the last byte. */
function fillDisk(): void {
  spawnSync('sh', ['-c', `head -c 10000000 /dev/zero > ${mountPoint}/fill`]);
}

function emptyDisk(): void {
  for (const name of ['fill', 'audit.jsonl', 'audit.jsonl.head'])
    rmSync(join(mountPoint, name), { force: true });
}

describe('a full disk under the audit log', { skip }, () => {
  let fake: FakeLlmServer;
  before(async () => {
    fake = await FakeLlmServer.start();
  });
  after(async () => {
    await fake?.close();
  });

  it('keeps opsmate exec from running the command: one error line, one hint, exit 126', async () => {
    emptyDisk();
    fillDisk();
    const log = join(mountPoint, 'audit.jsonl');
    const marker = join(scratch, 'ran-anyway');
    const result = await runCliIsolated({ args: ['exec', '--audit-log', log, '--', `touch ${marker}`] });
    assert.equal(result.exitCode, 126, result.stderr);
    assert.equal(existsSync(marker), false, 'the command ran unaudited');
    assert.equal(
      result.stderr,
      `opsmate: error: not run: cannot write the command record to the audit log ${log}: no space left on the device (ENOSPC)\n` +
        `opsmate: hint: free space on the file system that holds ${mountPoint}, or choose another file with --audit-log (env OPSMATE_AUDIT_LOG)\n`,
    );
    emptyDisk();
  });

  it('tells the model a command was not run for want of an audit record when the disk fills mid-run', async () => {
    emptyDisk();
    const log = join(mountPoint, 'audit.jsonl');
    const marker = join(scratch, 'second-ran');
    fake.enqueue(
      {
        toolCalls: [
          {
            name: 'ShellCommand',
            args: { command: `head -c 10000000 /dev/zero > ${mountPoint}/fill; echo filled` },
          },
          // Longer than what is left of the log's last page, which a full tmpfs can still fill.
          { name: 'ShellCommand', args: { command: `touch ${marker} # ${'x'.repeat(8000)}` } },
        ],
      },
      { text: 'The disk is full.' },
    );
    const result = await runCliIsolated({
      args: [
        'run',
        'fill the disk, then touch a file',
        '-m',
        'gpt-4o',
        '--audit-log',
        log,
        '--policy-profile',
        'ask-destructive',
      ],
      env: { OPENAI_API_KEY: 'sk-fake-test-key-000000000000', OPENAI_BASE_URL: fake.openAiBaseUrl },
    });
    assert.equal(result.exitCode, 0, result.stderr);
    assert.equal(existsSync(marker), false, 'the second command ran unaudited');
    const [first, second] = toolResultsOf(fake.requests.at(-1)!);
    assert.match(first!, /filled/);
    assert.match(
      second!,
      /^The command was NOT run: it could not be recorded in the audit log first: cannot write the command record to the audit log \S+: no space left on the device \(ENOSPC\)\./,
    );
    assert.match(result.stderr, /^opsmate: error: not run: cannot write the command record .*\(ENOSPC\)$/m);
    assert.match(result.stderr, /^opsmate: hint: free space on the file system that holds /m);
    // The first command is in the log; of the second only what fitted, which verify names.
    assert.deepEqual(
      readAuditCommands(log).map((command) => command.command.slice(0, 9)),
      ['head -c 1'],
    );
    const verified = verifyAuditLog(log);
    assert.equal(verified.problem, undefined, verified.problem?.message);
    assert.match(verified.warnings.join('\n'), /incomplete.*: a write was cut short by a full disk/);
    emptyDisk();
  });
});

describe('other ways the audit log can fail or get in the way', () => {
  it('runs at once, audited, even with a lock file left by an older opsmate held by a live process', async () => {
    const home = mkdtempSync(join(scratch, 'home-'));
    const log = join(home, 'audit.jsonl');
    // opsmate 0.1 serialised appends with this O_EXCL lock file and waited 10 s for it, then ran
    // the command unaudited. Writers no longer take a lock, so a held one cannot stop the audit.
    writeFileSync(`${log}.lock`, `${process.pid}\n`);
    const result = await runCliIsolated({ args: ['exec', '--audit-log', log, '--', 'echo audited'] });
    assert.equal(result.exitCode, 0, result.stderr);
    assert.equal(result.stdout, 'audited\n');
    assert.equal(result.stderr, '');
    const [command] = readAuditCommands(log);
    assert.equal(command!.command, 'echo audited');
    assert.equal(command!.finished, true);
  });

  it('stops before connecting when the log cannot be opened at all', async () => {
    const folder = mkdtempSync(join(scratch, 'a-folder-'));
    const marker = join(scratch, 'not-run');
    const result = await runCliIsolated({ args: ['exec', '--audit-log', folder, '--', `touch ${marker}`] });
    assert.equal(result.exitCode, 2);
    assert.equal(existsSync(marker), false);
    assert.match(
      result.stderr,
      /^opsmate: error: cannot write the audit log .*: it is a folder \(EISDIR\)\n/,
    );
    assert.match(result.stderr, /\nopsmate: hint: .*--audit-log/);
  });
});
