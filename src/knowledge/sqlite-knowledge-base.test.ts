/**
 * What only the embedded store (SQLite) does: moving a PGlite store of an earlier version into
 * it, its lock between processes, a process killed in the middle of a write, a file that is not
 * a knowledge base. The store's ingest and search are in knowledge-base.test.ts, with PostgreSQL.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { OpsmateError } from '../errors/opsmate-error.js';
import { SecretRedactor } from '../safety/secret-redactor.js';
import { ingest } from './ingest.js';
import { PostgresKnowledgeBase } from './knowledge-base.js';
import { knowledgeBaseExists, knowledgeLocation, withKnowledgeBase } from './knowledge-location.js';
import { openPgliteStore } from './pglite-store.js';
import { openSqliteKnowledgeBase, SqliteKnowledgeBase } from './sqlite-knowledge-base.js';

const redactor = new SecretRedactor({});
const redact = (text: string) => redactor.redact(text, { keepLineCount: true });

function writeRunbooks(dir: string): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'raft.md'),
    '# Raft elections\n\n## Symptoms\nThe etcd leader flaps between members every few seconds.\n\n## Fix\nRaise the election timeout.\n',
  );
  writeFileSync(
    join(dir, 'disk.md'),
    '# Disk full\n\n## Symptoms\nnginx returns 500 because /var is full of core dumps.\n',
  );
}

describe('embedded store (SQLite)', () => {
  let work: string;
  before(() => {
    work = mkdtempSync(join(tmpdir(), 'wt-sqlite-kb-'));
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  it('moves a PGlite store of an earlier version into SQLite: sources, hashes, chunks, embeddings; ingest goes on', async () => {
    const home = join(work, 'migrate');
    const docs = join(home, 'docs');
    writeRunbooks(docs);
    const location = knowledgeLocation({ home });
    assert.equal(location.kind, 'embedded');
    if (location.kind !== 'embedded') return;
    // What an earlier version left: a PGlite store in <home>/knowledge/store, one chunk embedded.
    const legacy = { kind: 'pglite' as const, dataDir: location.legacyDataDir! };
    await ingest({ location: legacy, target: docs, home, redact, name: 'team' });
    const pglite = await openPgliteStore({ dataDir: legacy.dataDir });
    try {
      const knowledge = await PostgresKnowledgeBase.open(pglite);
      const [first] = await knowledge.chunksToEmbed('fake:model', 1);
      await knowledge.setEmbeddings('fake:model', [{ id: first!.id, embedding: [1, 0, 0.5] }]);
    } finally {
      await pglite.close();
    }
    assert.ok(knowledgeBaseExists(location), 'the PGlite store counts as a knowledge base before the move');
    assert.ok(!existsSync(location.file));

    const notices: string[] = [];
    const moved = await withKnowledgeBase(
      location,
      async (knowledge) => ({
        kind: knowledge.kind,
        sources: await knowledge.sources(),
        stats: await knowledge.stats(),
        hits: await knowledge.search({ query: 'etcd leader flapping', limit: 1 }),
        nearest: await knowledge.search({
          query: 'zzz',
          limit: 1,
          queryEmbedding: [1, 0, 0.5],
          embeddingModel: 'fake:model',
        }),
      }),
      { onNotice: (message) => notices.push(message) },
    );
    assert.equal(moved.kind, 'embedded');
    assert.deepEqual(
      moved.sources.map((source) => [source.name, source.documents]),
      [['team', 2]],
    );
    assert.equal(moved.stats.embeddedChunks['fake:model'], 1, 'the embedding moved with its model');
    assert.equal(moved.hits[0]?.path, 'raft.md');
    assert.equal(moved.nearest[0]?.matchedBy.join(), 'vector');
    assert.equal(notices.length, 1);
    assert.match(
      notices[0]!,
      /moved the knowledge base \(1 sources, \d+ chunks\) from .*store into .*knowledge\.sqlite/,
    );
    assert.ok(existsSync(join(location.legacyDataDir!, 'PG_VERSION')), 'the PGlite folder is left as it was');

    // The content hashes moved: nothing is re-read as changed; an edit is.
    writeFileSync(
      join(docs, 'disk.md'),
      '# Disk full\n\n## Symptoms\nThe root volume is full of journald logs.\n',
    );
    const again = await ingest({ location, target: docs, home, redact, name: 'team' });
    assert.deepEqual([again.unchanged, again.changed], [1, 1]);
    // A second open does not move it again.
    await withKnowledgeBase(location, async () => undefined, {
      onNotice: (message) => notices.push(message),
    });
    assert.equal(notices.length, 1);
  });

  it('leaves nothing when the move fails: the next open tries again', async () => {
    const home = join(work, 'migrate-fails');
    const location = knowledgeLocation({ home });
    if (location.kind !== 'embedded') return;
    mkdirSync(location.legacyDataDir!, { recursive: true });
    writeFileSync(join(location.legacyDataDir!, 'PG_VERSION'), '17\n'); // a folder PGlite cannot open
    await assert.rejects(
      withKnowledgeBase(location, async () => undefined),
      (error: Error) =>
        error instanceof OpsmateError && /cannot open the knowledge base in/.test(error.message),
    );
    assert.ok(!existsSync(location.file), 'no half-moved SQLite file is left');
  });

  it('is held by one process at a time; a live holder makes the next wait, then fail with a clear error', async () => {
    const file = join(work, 'locked', 'kb.sqlite');
    const held = await openSqliteKnowledgeBase({ file });
    try {
      await assert.rejects(
        openSqliteKnowledgeBase({ file, waitMs: 200 }),
        (error: Error) =>
          error instanceof OpsmateError &&
          /in use by another opsmate process \(pid \d+\)/.test(error.message) &&
          /try again/.test(error.hint ?? ''),
      );
    } finally {
      await held.close();
    }
    const next = await openSqliteKnowledgeBase({ file, waitMs: 200 });
    await next.close();
  });

  it('recovers from a process killed in the middle of a write: the last commit is there, the killed write is not', async () => {
    const home = join(work, 'crash');
    const docs = join(home, 'docs');
    writeRunbooks(docs);
    const location = knowledgeLocation({ home });
    if (location.kind !== 'embedded') return;
    await ingest({ location, target: docs, home, redact, name: 'kept' });
    // A writer that spills its transaction to the file (a tiny page cache), says so and hangs.
    const code = `
      const { openSqliteKnowledgeBase } = await import(${JSON.stringify(new URL('./sqlite-knowledge-base.ts', import.meta.url).pathname)});
      const knowledge = await openSqliteKnowledgeBase({ file: process.argv[1] });
      knowledge.query('pragma cache_size = 8');
      function* batches() {
        for (let batch = 0; batch < 40; batch++) {
          yield Array.from({ length: 25 }, (_, file) => ({
            path: 'page-' + batch + '-' + file + '.md', hash: 'h' + batch + '-' + file, bytes: 4000, redactions: 0, replaces: false,
            chunks: [{ title: 'Page', headingPath: ['Page'], startLine: 1, endLine: 40, content: ('lost words ' + batch + ' ').repeat(300) }],
          }));
        }
        // Pipes are written synchronously on Linux: the parent reads this while the write is open.
        process.stdout.write('spilled\\n');
        for (;;) {} // in the middle of the transaction until the parent kills it
      }
      await knowledge.writeSource({
        source: { name: 'lost', origin: 'x', kind: 'folder', root: '/x', glob: '**' },
        upserts: { [Symbol.iterator]: () => { const it = batches(); return { next: () => it.next() }; } },
        deletes: [],
        expectedChunks: 1000,
      });`;
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', code, location.file],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        if (chunk.toString().includes('spilled')) resolve();
      });
      child.on('exit', (code) =>
        reject(new Error(`the writer exited (${code}) before it spilled: ${stderr}`)),
      );
    });
    assert.ok(
      existsSync(`${location.file}-wal`),
      'the killed write left its uncommitted pages in the write-ahead log',
    );
    child.kill('SIGKILL');
    await new Promise((resolve) => child.on('exit', resolve));
    assert.ok(
      existsSync(`${location.file}.lock`),
      "SQLite's lock directory is left behind by the killed process",
    );

    await withKnowledgeBase(location, async (knowledge) => {
      assert.ok(knowledge instanceof SqliteKnowledgeBase);
      assert.deepEqual(knowledge.query('pragma integrity_check'), [{ integrity_check: 'ok' }]);
      assert.deepEqual(
        (await knowledge.sources()).map((source) => source.name),
        ['kept'],
      );
      assert.deepEqual(await knowledge.search({ query: 'lost words', limit: 3 }), []);
      assert.equal((await knowledge.search({ query: 'etcd leader', limit: 1 }))[0]?.path, 'raft.md');
    });
    const after = await ingest({ location, target: docs, home, redact, name: 'kept' });
    assert.equal(after.unchanged, 2);
  });

  it('refuses a file that is not a SQLite database, with what to do', async () => {
    const file = join(work, 'not-sqlite', 'kb.sqlite');
    mkdirSync(join(work, 'not-sqlite'), { recursive: true });
    writeFileSync(file, 'this is a text file, not a database\n'.repeat(200));
    await assert.rejects(
      openSqliteKnowledgeBase({ file }),
      (error: Error) =>
        error instanceof OpsmateError &&
        error.message.startsWith(`cannot open the knowledge base in ${file}`) &&
        /move the file away/.test(error.hint ?? ''),
    );
    // Nothing was written to it, and its lock was let go.
    const next = openSqliteKnowledgeBase({ file, waitMs: 100 });
    await assert.rejects(next, /cannot open the knowledge base/);
  });
});
