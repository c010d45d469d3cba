// End-to-end: the built CLI (bin/opsmate.js → dist/), run as a user would, with no terminal.
// Build first: `npm run build` (npm test does).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { readAuditCommands, type AuditCommandView } from './verify-audit-log.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const bin = join(root, 'bin', 'opsmate.js');
const OWN_KEY = 'sk-e2e-own-key-abcdefghijklmnop';

let home: string;
let scratch: string;

function opsmate(args: string[], env: Record<string, string> = {}) {
  const result = spawnSync(process.execPath, [bin, ...args], {
    cwd: scratch,
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: home,
      OPSMATE_HOME: home,
      OPENAI_API_KEY: OWN_KEY,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** The commands in the audit log, one object each (started and finished records merged). */
function auditLines(): AuditCommandView[] {
  return readAuditCommands(join(home, 'audit.jsonl'));
}

describe('safety through the built CLI', () => {
  before(() => {
    assert.ok(existsSync(join(root, 'dist', 'safety', 'guarded-runtime.js')), 'run `npm run build` first');
    home = mkdtempSync(join(tmpdir(), 'opsmate-e2e-home-'));
    scratch = mkdtempSync(join(tmpdir(), 'opsmate-e2e-scratch-'));
  });
  after(() => {
    rmSync(home, { recursive: true, force: true });
    rmSync(scratch, { recursive: true, force: true });
  });

  it('runs an allowed command and appends an audit line without secrets', () => {
    const result = opsmate(['exec', '--', `echo hello; echo token=${OWN_KEY} >/dev/null`]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, 'hello\n');
    const [entry] = auditLines();
    assert.equal(entry!.outcome, 'approved');
    assert.equal(entry!.runtime, 'local');
    assert.equal(entry!.exitCode, 0);
    assert.ok(typeof entry!.sessionId === 'string');
    assert.equal(readFileSync(join(home, 'audit.jsonl'), 'utf8').includes(OWN_KEY), false);
  });

  it('refuses a command that needs approval when there is no terminal, and runs nothing of it', () => {
    const marker = join(scratch, 'marker-ask');
    const result = opsmate(['exec', '--', `touch ${marker}; rm -rf ${scratch}/nothing`]);
    assert.equal(result.code, 126);
    assert.match(result.stderr, /not run: needs approval .*rm-recursive-or-force.*no terminal/);
    assert.match(result.stderr, /hint: .*--yes/);
    assert.equal(existsSync(marker), false);
    assert.equal(auditLines().at(-1)!.outcome, 'cancelled');
  });

  it('runs it with --yes, and records who approved it', () => {
    const marker = join(scratch, 'marker-yes');
    const result = opsmate(['exec', '--yes', '--', `touch ${marker}; rm -rf ${scratch}/nothing`]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(existsSync(marker), true);
    assert.equal(auditLines().at(-1)!.decidedBy, '--yes');
  });

  it('never runs a denied command, even with --yes', () => {
    const policy = join(scratch, 'policy.yaml');
    writeFileSync(
      policy,
      'rules:\n  - name: no-touch\n    action: deny\n    runtime: local\n    commands: [touch]\n    reason: touch is forbidden here\n',
    );
    const marker = join(scratch, 'marker-deny');
    const result = opsmate([
      'exec',
      '--yes',
      '--policy-file',
      policy,
      '--',
      `echo hi && sudo touch ${marker}`,
    ]);
    assert.equal(result.code, 126);
    assert.match(result.stderr, /denied by policy rule .*no-touch: touch is forbidden here/);
    assert.equal(result.stdout, '');
    assert.equal(existsSync(marker), false);
    const entry = auditLines().at(-1)!;
    assert.equal(entry.outcome, 'denied');
    assert.match(String(entry.rule), /no-touch/);
  });

  it('prints policy decisions with the deciding rule', () => {
    const ask = opsmate(['policy', 'check', 'echo ok; sudo rm -rf /tmp/x']);
    assert.equal(ask.code, 0);
    assert.match(
      ask.stdout,
      /^ask\nprofile: read-only\nrule: read-only:not-listed\nsegment: rm -rf \/tmp\/x \(inside sudo\)\n/,
    );
    assert.match(ask.stdout, /parts:\n {2}allow echo ok {2}\[read-only:echo\]\n/);
    const destructive = opsmate([
      'policy',
      'check',
      '--policy-profile',
      'ask-destructive',
      'echo ok; sudo rm -rf /tmp/x',
    ]);
    assert.match(destructive.stdout, /^ask\nprofile: ask-destructive\nrule: builtin:rm-recursive-or-force\n/);
    const allow = opsmate(['policy', 'check', "echo 'rm -rf /'"]);
    assert.match(allow.stdout, /^allow\nprofile: read-only\nrule: read-only:echo\n/);
    const policy = join(scratch, 'policy.yaml');
    const deny = opsmate(['policy', 'check', '--policy-file', policy, 'ls; touch x']);
    assert.match(deny.stdout, /^deny\nprofile: read-only\nrule: .*no-touch\nsegment: touch x\n/);
    const bad = opsmate(['policy', 'check', '--policy-file', join(scratch, 'missing.yaml'), 'ls']);
    assert.equal(bad.code, 2);
  });

  it('verifies the audit log, and names the first line that was tampered with', () => {
    const good = opsmate(['audit', 'verify']);
    assert.equal(good.code, 0, good.stderr);
    // Four execs: open, started, finished for the two that ran; open, refused for the two that did not.
    assert.match(good.stdout, /10 entries, 4 commands, chain intact\n$/);
    const path = join(home, 'audit.jsonl');
    const copy = join(scratch, 'audit-copy.jsonl');
    const lines = readFileSync(path, 'utf8').trimEnd().split('\n');
    assert.match(lines[4]!, /"type":"refused".*"outcome":"cancelled"/);
    writeFileSync(
      copy,
      `${[...lines.slice(0, 4), lines[4]!.replace('"outcome":"cancelled"', '"outcome":"approved"'), ...lines.slice(5)].join('\n')}\n`,
    );
    const edited = opsmate(['audit', 'verify', '--audit-log', copy]);
    assert.equal(edited.code, 1);
    assert.match(edited.stderr, /line 5 was changed/);
    writeFileSync(copy, `${[lines[0], ...lines.slice(2)].join('\n')}\n`);
    const deleted = opsmate(['audit', 'verify'], { OPSMATE_AUDIT_LOG: copy });
    assert.equal(deleted.code, 1);
    assert.match(deleted.stderr, /line 2 is record 3 of writer \w+ but record 2 was expected/);
    assert.equal(opsmate(['audit', 'verify', '--audit-log', join(scratch, 'none.jsonl')]).code, 2);
  });
});
