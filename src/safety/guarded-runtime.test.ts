import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { CommandReviewer, ReviewDecision, ReviewRequest } from '../runtime/command-review.js';
import { isNotRunResult } from '../runtime/command-review.js';
import type { Runtime, RunResult } from '../runtime/contract.js';
import { AuditLog } from './audit-log.js';
import { readAuditCommands, verifyAuditLog } from './verify-audit-log.js';
import { CommandPolicy } from './command-policy.js';
import { GuardedRuntime, type GuardedRuntimeOptions } from './guarded-runtime.js';
import { NoTerminalReviewer } from './reviewers.js';
import { SecretRedactor } from './secret-redactor.js';

/** A runtime that records the commands it is given and prints what the test tells it to. */
class FakeRuntime implements Runtime {
  readonly name = 'ssh';
  readonly commands: string[] = [];
  output = 'ok\n';

  connect(): Promise<void> {
    return Promise.resolve();
  }
  disconnect(): Promise<void> {
    return Promise.resolve();
  }
  run(command: string): Promise<RunResult> {
    this.commands.push(command);
    return Promise.resolve({
      command,
      exitCode: 0,
      stdout: this.output,
      stderr: '',
      stdoutBytes: Buffer.byteLength(this.output),
      stderrBytes: 0,
      truncated: false,
      spillFiles: {},
      timedOut: false,
      cancelled: false,
      shellExited: false,
      durationMs: 5,
    });
  }
  osInfo(): Promise<string> {
    return Promise.resolve('Debian 12\nDB_PASSWORD=in-os-info-secret');
  }
  whoami(): Promise<string> {
    return Promise.resolve('root');
  }
  hasSystemd(): Promise<boolean> {
    return Promise.resolve(true);
  }
  runtimeInfo(): Promise<string> {
    return Promise.resolve('ssh to ssh://admin:hunter2pw@prod-db-1');
  }
  target(): Record<string, string> {
    return { host: 'prod-db-1' };
  }
}

/** A reviewer that answers from a script and records what it was asked. */
class ScriptedReviewer implements CommandReviewer {
  readonly requests: ReviewRequest[] = [];
  constructor(readonly answer: ReviewDecision) {}
  review(request: ReviewRequest): Promise<ReviewDecision> {
    this.requests.push(request);
    return Promise.resolve(this.answer);
  }
}

const dir = mkdtempSync(join(tmpdir(), 'opsmate-guard-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let counter = 0;

function setup(overrides: Partial<GuardedRuntimeOptions> = {}) {
  const inner = new FakeRuntime();
  const auditPath = join(dir, `audit-${++counter}.jsonl`);
  const guard = new GuardedRuntime({
    runtime: inner,
    policy: new CommandPolicy({ profile: 'ask-destructive' }),
    reviewer: new NoTerminalReviewer(),
    audit: new AuditLog(auditPath),
    redactor: new SecretRedactor({ env: { OPENAI_API_KEY: 'sk-test-own-key-0123456789abcdef' } }),
    sessionId: 'session-7',
    ...overrides,
  });
  // One object per command: its started and finished records merged, or its refused record.
  const entries = () => readAuditCommands(auditPath);
  return { inner, guard, auditPath, entries };
}

describe('GuardedRuntime', () => {
  it('runs an allowed command, masks its output and audits it with the instruction', async () => {
    const { inner, guard, entries, auditPath } = setup({ instruction: 'why is the disk full?' });
    inner.output = 'x\nDB_PASSWORD=s3cret-value\nkey sk-test-own-key-0123456789abcdef\n';
    const result = await guard.run('env | grep DB_');
    assert.deepEqual(inner.commands, ['env | grep DB_']);
    assert.equal(result.stdout.includes('s3cret-value'), false);
    assert.equal(result.stdout.includes('sk-test-own-key'), false);
    assert.match(result.notice ?? '', /2 secret values masked/);
    const [entry] = entries();
    assert.equal(entry!.outcome, 'approved');
    assert.equal(entry!.sessionId, 'session-7');
    assert.equal(entry!.instruction, 'why is the disk full?');
    assert.deepEqual(entry!.target, { host: 'prod-db-1' });
    assert.equal(entry!.runtime, 'ssh');
    assert.equal(entry!.exitCode, 0);
    assert.equal(entry!.outputBytes, Buffer.byteLength(inner.output));
    assert.equal(entry!.redactions, 2);
    assert.equal(verifyAuditLog(auditPath).problem, undefined);
  });

  it('never runs a denied command, tells the model why and audits the denial', async () => {
    const policyDir = mkdtempSync(join(dir, 'policy-'));
    const file = join(policyDir, 'policy.yaml');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(
      file,
      'rules:\n  - name: prod-ro\n    action: deny\n    target: {host: "prod-*"}\n    commands: [systemctl restart]\n    reason: prod is read-only\n',
    );
    const { inner, guard, entries } = setup({ policy: CommandPolicy.fromFile(file) });
    const result = await guard.run('ls; systemctl restart nginx');
    assert.deepEqual(inner.commands, []);
    assert.ok(isNotRunResult(result));
    assert.match(
      result.notice!,
      /denied by policy rule .*prod-ro: prod is read-only \(in: systemctl restart nginx\)/,
    );
    const [entry] = entries();
    assert.equal(entry!.outcome, 'denied');
    assert.equal(entry!.decidedBy, 'policy');
    assert.match(entry!.rule!, /prod-ro/);
    assert.equal(entry!.exitCode, null);
  });

  it('names a deny rule without a reason once', async () => {
    const policyDir = mkdtempSync(join(dir, 'policy-'));
    const file = join(policyDir, 'policy.yaml');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(file, 'rules:\n  - name: no-touch\n    action: deny\n    commands: [touch]\n');
    const { inner, guard } = setup({ policy: CommandPolicy.fromFile(file, { profile: 'ask-destructive' }) });
    const result = await guard.run('ls; touch /tmp/x');
    assert.deepEqual(inner.commands, []);
    assert.equal(result.notice!.split('no-touch').length, 2, result.notice);
    assert.match(result.notice!, /denied by policy rule \S+#1 no-touch \(in: touch \/tmp\/x\)/);

    const reviewer = new ScriptedReviewer({ action: 'cancel' });
    writeFileSync(file, 'rules:\n  - name: ask-touch\n    action: ask\n    commands: [touch]\n');
    const asked = setup({ policy: CommandPolicy.fromFile(file, { profile: 'ask-destructive' }), reviewer });
    await asked.guard.run('touch /tmp/x');
    assert.equal(reviewer.requests[0]!.reason!.split('ask-touch').length, 2, reviewer.requests[0]!.reason);
  });

  it('fails safe when a command needs approval and nobody can give it', async () => {
    const { inner, guard, entries } = setup();
    const result = await guard.run('sudo rm -rf /var/lib/app');
    assert.deepEqual(inner.commands, []);
    assert.match(result.notice!, /not run: needs approval .*rm-recursive-or-force.* no terminal/);
    assert.equal(entries()[0]!.outcome, 'cancelled');
    assert.equal(entries()[0]!.decidedBy, 'no-terminal');
  });

  it('asks the reviewer for policy asks, and for everything with reviewAll', async () => {
    const reviewer = new ScriptedReviewer({ action: 'approve' });
    const { inner, guard } = setup({ reviewer });
    await guard.run('uptime');
    assert.equal(reviewer.requests.length, 0);
    await guard.run('kubectl delete pod web-1');
    assert.equal(reviewer.requests.length, 1);
    assert.match(reviewer.requests[0]!.reason!, /kubectl-delete/);
    assert.deepEqual(reviewer.requests[0]!.target, { host: 'prod-db-1' });
    assert.deepEqual(inner.commands, ['uptime', 'kubectl delete pod web-1']);

    const all = setup({ reviewer: new ScriptedReviewer({ action: 'approve' }), reviewAll: true });
    await all.guard.run('uptime');
    assert.equal((all.guard as unknown as { inner: FakeRuntime }).inner.commands.length, 1);
  });

  it('runs an edited command and records the original; an edit cannot get past a deny', async () => {
    const { inner, guard, entries } = setup({
      reviewer: new ScriptedReviewer({ action: 'edit', command: 'rm -ri /tmp/x' }),
    });
    const result = await guard.run('rm -rf /tmp/x');
    assert.deepEqual(inner.commands, ['rm -ri /tmp/x']);
    assert.match(result.notice!, /changed the command to: rm -ri \/tmp\/x/);
    assert.equal(entries()[0]!.outcome, 'edited');
    assert.equal(entries()[0]!.originalCommand, 'rm -rf /tmp/x');

    const file = join(mkdtempSync(join(dir, 'policy-')), 'p.yaml');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(file, 'rules:\n  - action: deny\n    commands: [mkfs.ext4]\n');
    const strict = setup({
      policy: CommandPolicy.fromFile(file, { profile: 'ask-destructive' }),
      reviewer: new ScriptedReviewer({ action: 'edit', command: 'mkfs.ext4 /dev/sdb' }),
    });
    await strict.guard.run('rm -rf /x');
    assert.deepEqual(strict.inner.commands, []);
    assert.equal(strict.entries()[0]!.outcome, 'denied');
  });

  it('reports a cancel with the reviewer reason', async () => {
    const { inner, guard, entries } = setup({
      reviewer: new ScriptedReviewer({ action: 'cancel', reason: 'use the runbook instead' }),
    });
    const result = await guard.run('reboot');
    assert.deepEqual(inner.commands, []);
    assert.equal(result.notice, 'not run: use the runbook instead');
    assert.equal(entries()[0]!.reason, 'use the runbook instead');
  });

  it('keeps secrets out of the audit log, masks runtime info, and can leave output unmasked', async () => {
    const { guard, entries } = setup({ instruction: 'log in with password=hunter2pw please' });
    await guard.run('mysql -u root -pTopSecret1 -e "show databases"');
    const line = JSON.stringify(entries()[0]);
    assert.equal(line.includes('TopSecret1'), false);
    assert.equal(line.includes('hunter2pw'), false);
    assert.equal((await guard.osInfo!()).includes('in-os-info-secret'), false);
    assert.equal((await guard.runtimeInfo()).includes('hunter2pw'), false);

    const open = setup({ redact: false });
    open.inner.output = 'API_TOKEN=visible-on-purpose\n';
    assert.equal((await open.guard.run('env')).stdout, 'API_TOKEN=visible-on-purpose\n');
  });

  it('records the instruction set by the agent for later commands', async () => {
    const { guard, entries } = setup();
    guard.setAuditContext({ instruction: 'check nginx' });
    await guard.run('systemctl status nginx');
    assert.equal(entries()[0]!.instruction, 'check nginx');
    assert.equal(entries()[0]!.sessionId, 'session-7');
  });

  it('writes the started record before the runtime gets the command, and the finished record after', async () => {
    const { inner, guard, auditPath, entries } = setup();
    let seenByRuntime: string[] = [];
    const run = inner.run.bind(inner);
    inner.run = (command) => {
      seenByRuntime = readFileSync(auditPath, 'utf8').trimEnd().split('\n');
      return run(command);
    };
    await guard.connect();
    await guard.run('uptime');
    await guard.disconnect();
    assert.deepEqual(
      seenByRuntime.map((line) => (JSON.parse(line) as { type: string }).type),
      ['open', 'started'],
    );
    assert.equal(entries()[0]!.finished, true);
    assert.equal(entries()[0]!.exitCode, 0);
    assert.equal(verifyAuditLog(auditPath).problem, undefined);
  });

  it('does not run a command whose started record cannot be written, and says why', async () => {
    const blocker = join(dir, `blocker-${++counter}`);
    const { writeFileSync } = await import('node:fs');
    writeFileSync(blocker, '');
    const failures: string[] = [];
    const { inner, guard } = setup({
      audit: new AuditLog(join(blocker, 'audit.jsonl')),
      onAuditFailure: (error) => failures.push(`${error.message} | ${error.hint}`),
    });
    const result = await guard.run('touch /tmp/should-not-exist');
    assert.deepEqual(inner.commands, []);
    assert.ok(isNotRunResult(result));
    assert.match(result.notice!, /not run: it could not be recorded in the audit log first: cannot write/);
    assert.equal(failures.length, 1);
    assert.match(failures[0]!, /a part of the path is not a folder.* \| .*--audit-log/);
  });

  it('records a command stopped by a signal, and a runtime failure, as finished', async () => {
    const { inner, guard, entries } = setup();
    const { SignalAbort } = await import('../process/signal-abort.js');
    const abort = new AbortController();
    abort.abort(new SignalAbort('SIGTERM'));
    const run = inner.run.bind(inner);
    inner.run = async (command) => ({ ...(await run(command)), exitCode: null, cancelled: true });
    await guard.run('sleep 30', { signal: abort.signal });
    assert.equal(entries()[0]!.cancelled, true);
    assert.equal(entries()[0]!.signal, 'SIGTERM');
    assert.equal(entries()[0]!.exitCode, null);

    inner.run = () => Promise.reject(new Error('lost the connection to ssh://u:pw-in-url-123@h'));
    await assert.rejects(guard.run('uptime'), /lost the connection/);
    const failed = entries()[1]!;
    assert.equal(failed.finished, true);
    assert.match(failed.error!, /lost the connection/);
    assert.equal(failed.error!.includes('pw-in-url-123'), false);
  });

  it('masks target text in the working directory, the notice and whoami', async () => {
    const { inner, guard } = setup();
    const token = `ghp_${'A1b2C3d4'.repeat(4)}abcd`;
    const run = inner.run.bind(inner);
    inner.run = async (command) => ({
      ...(await run(command)),
      cwd: `/tmp/${token}`,
      notice: `the shell said ${token}`,
    });
    inner.whoami = () => Promise.resolve(`user-${token}`);
    const result = await guard.run('pwd');
    assert.equal(result.cwd!.includes(token), false, result.cwd);
    assert.equal(result.notice!.includes(token), false, result.notice);
    assert.equal((await guard.whoami!()).includes(token), false);
  });

  it('judges with the read-only profile by default and records the profile in the audit log', async () => {
    const { inner, guard, entries } = setup({ policy: new CommandPolicy() });
    await guard.run('df -h /');
    const refused = await guard.run('touch /tmp/x');
    assert.deepEqual(inner.commands, ['df -h /']);
    assert.match(
      refused.notice!,
      /not run: needs approval \(touch is not on the read-only list \[read-only:not-listed\]\)/,
    );
    assert.deepEqual(
      entries().map((entry) => [entry.outcome, entry.profile]),
      [
        ['approved', 'read-only'],
        ['cancelled', 'read-only'],
      ],
    );
  });

  it('"always allow" for the session runs the same command again without asking, and nothing more', async () => {
    const reviewer = new ScriptedReviewer({
      action: 'approve',
      remember: { prefix: 'systemctl restart nginx', scope: 'session' },
    });
    const { inner, guard } = setup({ policy: new CommandPolicy(), reviewer });
    await guard.run('systemctl restart nginx');
    assert.equal(reviewer.requests.length, 1);
    assert.equal(reviewer.requests[0]!.suggestedPrefix, 'systemctl restart nginx');
    await guard.run('systemctl restart nginx');
    assert.equal(reviewer.requests.length, 1, 'the same command was asked about again');
    // Exact by default: more targets or options are a different command (finding 35).
    await guard.run('systemctl restart nginx sshd docker');
    await guard.run('systemctl restart nginx --no-block');
    await guard.run('systemctl restart sshd');
    assert.equal(reviewer.requests.length, 4, 'a command other than the allowed one was not asked about');
    assert.deepEqual(inner.commands, [
      'systemctl restart nginx',
      'systemctl restart nginx',
      'systemctl restart nginx sshd docker',
      'systemctl restart nginx --no-block',
      'systemctl restart sshd',
    ]);
    // The rule covers that command only: what else the line does is still judged.
    await guard.run('systemctl restart nginx; touch /tmp/x');
    assert.equal(reviewer.requests.length, 5);
  });

  it('"always allow" with a shortened command allows it as a prefix, unless the command is destructive', async () => {
    const warnings: string[] = [];
    const prefixed = new ScriptedReviewer({
      action: 'approve',
      remember: {
        prefix: 'touch /tmp/opsmate-',
        match: 'prefix',
        command: 'touch /tmp/opsmate-a',
        scope: 'session',
      },
    });
    const first = setup({ policy: new CommandPolicy(), reviewer: prefixed });
    await first.guard.run('touch /tmp/opsmate-a');
    await first.guard.run('touch /tmp/opsmate- /tmp/b');
    assert.equal(prefixed.requests.length, 1, 'a command with the allowed prefix was asked about');
    const destructive = new ScriptedReviewer({
      action: 'approve',
      remember: { prefix: 'rm -rf', match: 'prefix', command: 'rm -rf /tmp/build', scope: 'session' },
    });
    const second = setup({
      policy: new CommandPolicy(),
      reviewer: destructive,
      onWarning: (message) => warnings.push(message),
    });
    await second.guard.run('rm -rf /tmp/build');
    assert.match(warnings.join('\n'), /would allow it on any target; allowed exactly "rm -rf \/tmp\/build"/);
    await second.guard.run('rm -rf /tmp/build');
    assert.equal(destructive.requests.length, 1, 'the exact command was asked about again');
    await second.guard.run('rm -rf /var/lib/postgresql');
    await second.guard.run('rm -rf /tmp/build /var/lib/postgresql');
    assert.equal(destructive.requests.length, 3, 'the destructive prefix was taken as a prefix');
    // Cut to the program alone, the prefix is harmless on its own, but the command was not.
    const program = new ScriptedReviewer({
      action: 'approve',
      remember: { prefix: 'kubectl', match: 'prefix', command: 'kubectl delete pod web-1', scope: 'session' },
    });
    const third = setup({ policy: new CommandPolicy(), reviewer: program });
    await third.guard.run('kubectl delete pod web-1');
    await third.guard.run('kubectl delete ns prod');
    assert.equal(
      program.requests.length,
      2,
      'kubectl delete ns prod ran under a prefix cut from kubectl delete pod',
    );
  });

  it('"always allow" saved to the policy file keeps the file and scopes the rule to the target', async () => {
    const { writeFileSync } = await import('node:fs');
    const file = join(mkdtempSync(join(dir, 'policy-')), 'policy.yaml');
    writeFileSync(file, '# my rules\nrules:\n  - action: deny\n    commands: [mkfs]\n');
    const reviewer = new ScriptedReviewer({
      action: 'approve',
      remember: { prefix: 'touch /tmp/marker', scope: 'policy-file' },
    });
    const { guard } = setup({ policy: CommandPolicy.fromFile(file), reviewer });
    await guard.run('touch /tmp/marker');
    const saved = readFileSync(file, 'utf8');
    assert.match(saved, /# my rules/);
    assert.match(saved, /commands:\s*\n?\s*- mkfs|commands: \[ mkfs \]|commands: \[mkfs\]/);
    assert.match(saved, /exact: touch \/tmp\/marker/);
    assert.match(saved, /host: prod-db-1/);
    const reloaded = setup({ policy: CommandPolicy.fromFile(file), reviewer: new NoTerminalReviewer() });
    await reloaded.guard.run('touch /tmp/marker');
    assert.deepEqual(reloaded.inner.commands, ['touch /tmp/marker']);
  });

  it('reads the commands of a SQL runtime as SQL, not shell', async () => {
    const { inner, guard } = setup({ policy: new CommandPolicy() });
    Object.defineProperty(inner, 'language', { value: { id: 'sql', description: 'PostgreSQL' } });
    const read = await guard.run("select name from users; -- don't show emails");
    assert.equal(isNotRunResult(read), false, read.notice);
    const dropped = await guard.run('DROP TABLE users;');
    assert.ok(isNotRunResult(dropped));
    assert.match(dropped.notice!, /DROP/);
    assert.deepEqual(inner.commands, ["select name from users; -- don't show emails"]);
  });
});
