/**
 * Files read in a worker thread while the store is written (read-worker.ts): the store ends up
 * exactly as when they are read in ingest's own thread, secrets masked the same way (the
 * environment's too), files that are not regular, too large, binary or gone skipped the same way;
 * a failure in the thread rejects the ingest; an abort ends it. On the embedded store; the stores'
 * own behaviour is in knowledge-base.test.ts.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ingest, readInWorker } from './ingest.js';
import { knowledgeLocation, withKnowledgeBase } from './knowledge-location.js';
import { noCounts } from './read-documents.js';
import { SqliteKnowledgeBase } from './sqlite-knowledge-base.js';
import { OpsmateError } from '../errors/opsmate-error.js';
import { documentReader } from './read-documents.js';

const OWN_SECRET = 'hunter2-but-longer-0042';

/** `files` Markdown runbooks, with secrets, a table, a code block and other files among them. */
function writeSource(dir: string, files: number): void {
  mkdirSync(join(dir, 'nested', 'deeper'), { recursive: true });
  for (let file = 0; file < files; file++) {
    const folder =
      file % 3 === 0 ? join(dir, 'nested') : file % 3 === 1 ? join(dir, 'nested', 'deeper') : dir;
    writeFileSync(
      join(folder, `runbook-${String(file).padStart(4, '0')}.md`),
      [
        `# Runbook ${file}: pgbouncer pool exhausted on db-${file % 7}`,
        '',
        '## Symptoms',
        '',
        `Clients see "no more connections allowed" ${file} times an hour; p99 latency rises.`,
        '',
        '| metric | threshold |',
        '| --- | --- |',
        `| cl_waiting | ${file % 50} |`,
        '',
        '## Fix',
        '',
        '```sh',
        `psql "postgres://admin:S3cretPass${file}@db-${file % 7}:5432/app" -c 'show pools'`,
        `export DEPLOY_TOKEN=${OWN_SECRET}`,
        '```',
        '',
        `Restart with AKIA${'ABCDEFGHIJKLMNOP'} rotated. Ünïcödé wörds, 東京 too.`,
      ].join('\n'),
    );
  }
  writeFileSync(
    join(dir, 'notes.txt'),
    `Plain text.\n\nTwo paragraphs, the token ${OWN_SECRET} among them.\n`,
  );
  writeFileSync(join(dir, 'blob.md'), Buffer.from([0x23, 0x20, 0x00, 0x01, 0x02]));
  writeFileSync(join(dir, 'huge.md'), Buffer.alloc(5 * 1024 * 1024 + 1, 0x61));
}

/** Everything the store holds of `source`, ids left out (they depend on what was written before). */
async function contents(home: string, source: string) {
  return withKnowledgeBase(knowledgeLocation({ home }), (knowledge) => {
    assert.ok(knowledge instanceof SqliteKnowledgeBase);
    return Promise.resolve({
      documents: knowledge.query(
        'select path, hash, bytes, redactions from kb_documents where source = ? order by path',
        [source],
      ),
      chunks: knowledge.query(
        `select path, ordinal, title, heading_path, start_line, end_line, content, terms, lexemes
         from kb_chunks where source = ? order by path, ordinal`,
        [source],
      ),
      terms: knowledge.query('select lexeme, chunks from kb_terms where source = ? order by lexeme', [
        source,
      ]),
      source: knowledge.query('select chunk_count, lexeme_count from kb_sources where name = ?', [source]),
    });
  });
}

describe('files read in a worker thread', () => {
  let work: string;
  before(() => {
    work = mkdtempSync(join(tmpdir(), 'wt-read-worker-'));
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  it('stores exactly what reading in ingest’s thread stores, secrets masked, the same files skipped', async () => {
    const docs = join(work, 'docs');
    writeSource(docs, 450);
    const masking = { env: { DEPLOY_TOKEN: OWN_SECRET, PATH: '/usr/bin' } };
    const run = (home: string, readInWorker: boolean) =>
      ingest({
        location: knowledgeLocation({ home }),
        target: docs,
        home,
        masking,
        name: 'same',
        readInWorker,
      });
    const [inThread, inWorker] = [await run(join(work, 'a'), false), await run(join(work, 'b'), true)];
    const counted = (summary: typeof inThread) => ({ ...summary, root: '', elapsedMs: 0 });
    assert.deepEqual(counted(inWorker), counted(inThread));
    assert.equal(inWorker.added, 451);
    assert.deepEqual(
      inWorker.skipped.map((skipped) => skipped.path).sort(),
      ['blob.md', 'huge.md'],
      'the binary and the too large file are skipped',
    );
    assert.ok(inWorker.redactions >= 450 * 3, `${inWorker.redactions} secrets masked`);
    const [a, b] = [await contents(join(work, 'a'), 'same'), await contents(join(work, 'b'), 'same')];
    assert.ok(a.chunks.length > 800, `${a.chunks.length} chunks`);
    assert.deepEqual(b, a, 'the same documents, chunks, terms and totals');
    const stored = JSON.stringify(b);
    for (const secret of [OWN_SECRET, 'S3cretPass7', 'AKIAABCDEFGHIJKLMNOP']) {
      assert.ok(!stored.includes(secret), `${secret} is masked`);
    }

    // Again, nothing changed: every file is unchanged, both ways.
    const again = await run(join(work, 'b'), true);
    assert.deepEqual([again.added, again.changed, again.unchanged], [0, 0, 451]);
  });

  it('skips links to outside the source and anything not a regular file, without blocking; follows links inside', async () => {
    const outside = join(work, 'outside');
    mkdirSync(outside, { recursive: true });
    writeFileSync(join(outside, 'secret.md'), '# Secret\n\nNot for the knowledge base.\n');
    for (const readInWorker of [false, true]) {
      const docs = join(work, `links-${readInWorker}`);
      writeSource(docs, readInWorker ? 1000 : 5);
      symlinkSync(join(outside, 'secret.md'), join(docs, 'linked-secret.md'));
      symlinkSync(outside, join(docs, 'linked-folder'));
      symlinkSync(join(docs, 'runbook-0002.md'), join(docs, 'alias.md'));
      const home = join(work, `links-home-${readInWorker}`);
      const summary = await ingest({
        location: knowledgeLocation({ home }),
        target: docs,
        home,
        masking: {},
        name: 'links',
        readInWorker,
      });
      const skipped = new Map(summary.skipped.map((entry) => [entry.path, entry.reason]));
      assert.equal(
        skipped.get('linked-secret.md'),
        'a link to outside the source',
        `worker: ${readInWorker}`,
      );
      assert.equal(skipped.get('linked-folder/secret.md'), 'a link to outside the source');
      assert.equal(skipped.has('alias.md'), false, 'a link inside the source is read');
      const stored = await contents(home, 'links');
      assert.ok(!JSON.stringify(stored).includes('Not for the knowledge base'));
      assert.ok(stored.documents.some((document) => (document as { path: string }).path === 'alias.md'));
    }
    // A FIFO where a file was listed: opened without blocking, and skipped.
    const fifoRoot = join(work, 'fifo');
    mkdirSync(fifoRoot, { recursive: true });
    execFileSync('mkfifo', [join(fifoRoot, 'pipe.md')]);
    const counts = noCounts();
    const read = documentReader({ root: fifoRoot, stored: new Map(), masking: {} });
    assert.equal(read('pipe.md', counts), undefined);
    assert.deepEqual(counts.skipped, [{ path: 'pipe.md', reason: 'not a regular file' }]);
  });

  it('skips a file deleted after the listing, both ways, and stores the rest', async () => {
    for (const readInWorker of [false, true]) {
      const docs = join(work, `deleted-${readInWorker}`);
      writeSource(docs, 900);
      const last = join(docs, 'runbook-0899.md');
      const home = join(work, `deleted-home-${readInWorker}`);
      let deleted = false;
      const summary = await ingest({
        location: knowledgeLocation({ home }),
        target: docs,
        home,
        masking: {},
        name: 'gone',
        readInWorker,
        onProgress: ({ phase, done }) => {
          // The thread reads two batches ahead at most: 600 of the 903 files.
          if (phase === 'reading' && done > 0 && !deleted) {
            unlinkSync(last);
            deleted = true;
          }
        },
      });
      assert.ok(deleted);
      assert.deepEqual(
        summary.skipped.find((skipped) => skipped.path === 'runbook-0899.md'),
        { path: 'runbook-0899.md', reason: 'removed while the ingest ran' },
        `read ${readInWorker ? 'in a worker' : 'in its thread'}`,
      );
      assert.equal(summary.added, 900);
    }
  });

  it('rejects with the thread’s error as an OpsmateError with its hint, both ways, and an abort ends it', async () => {
    const root = join(work, 'gone-root');
    const summary = { ...noCounts(), source: '', root, files: 1, deleted: 0, embedded: 0, elapsedMs: 0 };
    const expected = (error: unknown) =>
      OpsmateError.isInstance(error) &&
      error.message.includes(`cannot read the source at ${root}`) &&
      /check that the folder exists/.test(error.hint ?? '');
    const batches = readInWorker({ root, files: ['x.md'], stored: new Map(), masking: {}, summary });
    await assert.rejects(
      (async () => {
        for await (const batch of batches) assert.fail(`no batch expected, got ${batch.length}`);
      })(),
      expected,
    );
    // In ingest's thread, the same reader throws the same error.
    assert.throws(() => documentReader({ root, stored: new Map(), masking: {} }), expected);

    const docs = join(work, 'abort');
    writeSource(docs, 600);
    const stop = new AbortController();
    const taken: number[] = [];
    await assert.rejects(
      (async () => {
        for await (const batch of readInWorker({
          root: docs,
          files: Array.from({ length: 600 }, (_, file) => {
            const name = `runbook-${String(file).padStart(4, '0')}.md`;
            return file % 3 === 0 ? `nested/${name}` : file % 3 === 1 ? `nested/deeper/${name}` : name;
          }),
          stored: new Map(),
          masking: {},
          summary,
          signal: stop.signal,
        })) {
          taken.push(batch.length);
          stop.abort();
        }
      })(),
      (error: Error) => error.name === 'AbortError',
    );
    assert.deepEqual(taken.length, 1, 'no batch after the abort');
  });
});
