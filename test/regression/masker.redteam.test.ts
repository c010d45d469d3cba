// Red-team regression tests for the secret masker (issue 10), findings 25-27 of
// /work/REDTEAM-FINDINGS.md, on corpora of my own (test/redteam/corpora): planted secrets in the
// formats an SRE meets, and lookalikes that must stay readable. Finding 26 (throughput) only
// prints figures: timing is measured by benchmarks, never asserted in a test.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { SecretRedactor } from '../../src/safety/secret-redactor.js';

interface Planted {
  name: string;
  text: string;
  secret: string | null;
}

const corpus = <T>(file: string): T[] =>
  readFileSync(new URL(`corpora/${file}`, import.meta.url), 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as T);

/** Bare values no masker can recognise without context (documented in finding 25). */
const UNMASKABLE = new Set([
  'kubectl get secret -o jsonpath | base64 -d',
  'docker secret file content (cat /run/secrets/db_password)',
  'consul/etcd kv',
]);

describe('red team, masker: planted secrets in SRE formats (finding 25)', () => {
  const redactor = new SecretRedactor({});
  for (const row of corpus<Planted>('planted-secrets-sre.jsonl')) {
    if (!row.secret || UNMASKABLE.has(row.name)) continue;
    it(`masks: ${row.name}`, () => {
      const masked = redactor.redact(row.text).text;
      assert.ok(!masked.includes(row.secret!), `reached the model: ${JSON.stringify(masked)}`);
    });
  }
});

describe('red team, masker: lookalikes stay readable (finding 25)', () => {
  const redactor = new SecretRedactor({});
  for (const { text } of corpus<{ text: string }>('lookalikes-sre.jsonl')) {
    if (text.startsWith('aws_access_key_id')) continue; // masked on purpose (docs)
    it(`leaves alone: ${JSON.stringify(text.slice(0, 60))}`, () => {
      assert.equal(redactor.redact(text).text, text);
    });
  }
  it('keeps the size in kubectl describe secret', () => {
    const text = 'Data\n====\npassword:  18 bytes\n';
    assert.equal(redactor.redact(text).text, text);
  });
});

describe('red team, masker: a token cut by the truncation (finding 27)', () => {
  it('does not show most of a token whose start fell into the omitted middle', () => {
    const notice = '\n[... 1000 bytes omitted (2000 in all); full output in /tmp/x.stdout ...]\n';
    const text = `log${notice}mDGAkJiG8XnBE3NnYJoQ9WmXeHH2fdee\nmore`;
    const masked = new SecretRedactor({}).redactOutput(text).text;
    assert.ok(!masked.includes('mDGAkJiG8XnBE3NnYJoQ9WmXeHH2fdee'), masked);
  });
});

describe('red team, masker: throughput on adversarial input (finding 26, figures only)', () => {
  it('prints MB/s for match-dense inputs', () => {
    const redactor = new SecretRedactor({});
    const size = 2 * 1024 * 1024;
    for (const unit of [
      'secret: |\n  aaaa\n',
      'A_SECRET_KEY_BASE_X=1\n',
      '"password":',
      'kind: Secret\ndata:\n  a: YQ==\n---\n',
    ]) {
      const text = unit.repeat(Math.ceil(size / unit.length)).slice(0, size);
      const started = performance.now();
      redactor.redact(text);
      const seconds = (performance.now() - started) / 1000;
      process.stdout.write(`# ${JSON.stringify(unit)}: ${(size / 1024 / 1024 / seconds).toFixed(1)} MB/s\n`);
    }
  });
});
