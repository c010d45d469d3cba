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
import { ingest } from './ingest.js';
import { PostgresKnowledgeBase } from './knowledge-base.js';
import { knowledgeBaseExists, knowledgeLocation, withKnowledgeBase } from './knowledge-location.js';
import { openPgliteStore } from './pglite-store.js';
import { openSqliteKnowledgeBase, parseTerms, SqliteKnowledgeBase } from './sqlite-knowledge-base.js';

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
    await ingest({ location: legacy, target: docs, home, masking: {}, name: 'team' });
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
      /moved the knowledge base \(1 source, \d+ chunks\) from .*store into .*knowledge\.sqlite/,
    );
    assert.ok(!existsSync(`${location.file}.moving`), 'the move was written aside and renamed into place');
    assert.ok(existsSync(join(location.legacyDataDir!, 'PG_VERSION')), 'the PGlite folder is left as it was');

    // The content hashes moved: nothing is re-read as changed; an edit is.
    writeFileSync(
      join(docs, 'disk.md'),
      '# Disk full\n\n## Symptoms\nThe root volume is full of journald logs.\n',
    );
    const again = await ingest({ location, target: docs, home, masking: {}, name: 'team' });
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
        error instanceof OpsmateError &&
        /^cannot move the knowledge base from PGlite \(.*store\) into SQLite \(.*knowledge\.sqlite\): /.test(
          error.message,
        ) &&
        /left as it was and the move runs again at the next open/.test(error.hint ?? ''),
    );
    assert.ok(!existsSync(location.file), 'no half-moved SQLite file is left');
    assert.ok(!existsSync(`${location.file}.moving`), 'nor the file it was written to');
  });

  it('moves every source again after a move killed half-way: nothing of the killed move is kept', async () => {
    const home = join(work, 'migrate-killed');
    const location = knowledgeLocation({ home });
    if (location.kind !== 'embedded') return;
    const legacy = { kind: 'pglite' as const, dataDir: location.legacyDataDir! };
    // Two sources, the second big enough that the move is still writing when it is killed.
    const small = join(home, 'small');
    writeRunbooks(small);
    await ingest({ location: legacy, target: small, home, masking: {}, name: 'alpha' });
    const big = join(home, 'big');
    mkdirSync(big, { recursive: true });
    for (let file = 0; file < 800; file++)
      writeFileSync(join(big, `page-${file}.md`), `# Page ${file}\n\n## Step\nTurn valve${file}q.\n`);
    await ingest({ location: legacy, target: big, home, masking: {}, name: 'beta' });
    const code = `
      const { openKnowledgeBase } = await import(${JSON.stringify(new URL('./knowledge-location.ts', import.meta.url).pathname)});
      setInterval(() => {}, 1000);
      await openKnowledgeBase(JSON.parse(process.argv[1]), { onNotice: () => process.stdout.write('moved\\n') });`;
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', code, JSON.stringify(location)],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    // Killed once the move has begun writing the SQLite file aside.
    for (let wait = 0; wait < 6000 && !existsSync(`${location.file}.moving-wal`); wait++)
      await new Promise((resolve) => setTimeout(resolve, 5));
    child.kill('SIGKILL');
    await new Promise((resolve) => child.on('exit', resolve));
    assert.equal(stdout, '', 'killed before the move finished');
    assert.ok(!existsSync(location.file), 'no partial store in place of the PGlite one');
    const notices: string[] = [];
    const names = await withKnowledgeBase(
      location,
      async (knowledge) => (await knowledge.sources()).map((source) => [source.name, source.documents]),
      { onNotice: (message) => notices.push(message) },
    );
    assert.deepEqual(names, [
      ['alpha', 2],
      ['beta', 800],
    ]);
    assert.match(notices[0] ?? '', /\(2 sources, \d+ chunks\)/);
  });

  it('recovers from a failed statement: the next write and the close work, nothing is left open', async () => {
    const file = join(work, 'failed-statement', 'kb.sqlite');
    const knowledge = await openSqliteKnowledgeBase({ file });
    const source = { name: 'team', origin: 'x', kind: 'folder' as const, root: '/x', glob: '**' };
    const document = (hash: string) => ({
      path: 'a.md',
      hash,
      bytes: 10,
      redactions: 0,
      replaces: false,
      chunks: [{ title: 'A', headingPath: ['A'], startLine: 1, endLine: 2, content: 'valve opens' }],
    });
    try {
      await knowledge.writeSource({ source, upserts: [[document('h1')]], deletes: [], expectedChunks: 1 });
      // Told (wrongly) that nothing is stored: the document's key is taken, the write fails whole.
      await assert.rejects(
        knowledge.writeSource({ source, upserts: [[document('h2')]], deletes: [], expectedChunks: 1 }),
        /UNIQUE constraint failed/,
      );
      await knowledge.writeSource({
        source,
        upserts: [[{ ...document('h3'), replaces: true }]],
        deletes: [],
        expectedChunks: 1,
      });
      assert.equal((await knowledge.documentHashes('team')).get('a.md'), 'h3');
    } finally {
      await knowledge.close();
    }
    assert.ok(!existsSync(`${file}-wal`), 'the write-ahead log was checkpointed and removed at close');
    assert.ok(!existsSync(`${file}.lock`), "SQLite's lock directory went with the connection");
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
    await ingest({ location, target: docs, home, masking: {}, name: 'kept' });
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
    const after = await ingest({ location, target: docs, home, masking: {}, name: 'kept' });
    assert.equal(after.unchanged, 2);
  });

  it('finds words of any script, and an ASCII word never stands for a non-ASCII one', async () => {
    const home = join(work, 'scripts');
    const docs = join(home, 'docs');
    mkdirSync(docs, { recursive: true });
    // `_c3bc` would be the token of ü: the analyser cuts at `_`, so no ASCII lexeme is one.
    writeFileSync(
      join(docs, 'hex.md'),
      '# Hex dump\n\nThe register reads xc3bc and _c3bc after the reset.\n',
    );
    writeFileSync(join(docs, 'umlaut.md'), '# Umlaut\n\nThe key ü sticks on the console keyboard.\n');
    writeFileSync(
      join(docs, 'ja.md'),
      '# 障害対応\n\nデータベースの接続が切れる場合は、プールを再起動する。\n',
    );
    writeFileSync(join(docs, 'zh.md'), '# 故障\n\n数据库连接失败时，请重启连接池。\n');
    const location = knowledgeLocation({ home });
    await ingest({ location, target: docs, home, masking: {}, name: 'scripts' });
    await withKnowledgeBase(location, async (knowledge) => {
      const top = async (query: string) =>
        (await knowledge.search({ query, limit: 5 })).map((hit) => hit.path);
      assert.deepEqual(await top('ü'), ['umlaut.md']);
      assert.deepEqual(await top('xc3bc'), ['hex.md']);
      assert.deepEqual(await top('接続'), ['ja.md'], 'a Japanese word inside a sentence');
      assert.deepEqual(await top('连接失败'), ['zh.md'], 'Chinese words inside a sentence');
    });
  });

  it('indexes each lexeme once whatever its count, and reads terms written the former way (lexeme:count)', async () => {
    const home = join(work, 'terms-format');
    const docs = join(home, 'docs');
    mkdirSync(docs, { recursive: true });
    writeFileSync(
      join(docs, 'nginx.md'),
      '# Nginx\n\nnginx nginx nginx returns 502; restart nginx upstream.\n',
    );
    writeFileSync(join(docs, 'disk.md'), '# Disk\n\nThe disk is full; nginx logs fill it.\n');
    const location = knowledgeLocation({ home });
    await ingest({ location, target: docs, home, masking: {}, name: 'format' });
    const ranked = async () =>
      withKnowledgeBase(location, async (knowledge) =>
        (await knowledge.search({ query: 'nginx 502', limit: 5 })).map((hit) => hit.path),
      );
    const before = await ranked();
    assert.deepEqual(before, ['nginx.md', 'disk.md']);
    await withKnowledgeBase(location, (knowledge) => {
      assert.ok(knowledge instanceof SqliteKnowledgeBase);
      const rows = knowledge.query<{ id: number; terms: string }>('select id, terms from kb_chunks');
      const nginx = rows.find((row) => row.terms.includes('nginx+'));
      assert.ok(nginx, `a count written as +: ${rows.map((row) => row.terms).join(' | ')}`);
      // No token of a count: '+' is a separator for kb_fts.
      assert.deepEqual(knowledge.query('select rowid from kb_fts where kb_fts match \'"3"\''), []);
      // What the former format left: lexeme:count.
      for (const row of rows) {
        const former = parseTerms(row.terms)
          .map(([lexeme, count]) => `${lexeme}:${count}`)
          .join(' ');
        knowledge.query('update kb_chunks set terms = ? where id = ?', [former, row.id]);
      }
      return Promise.resolve();
    });
    assert.deepEqual(await ranked(), before, 'the same ranking from the former format');
    // Forgetting subtracts its lexemes from kb_terms as well.
    writeFileSync(join(docs, 'nginx.md'), '# Gone\n\nNothing left.\n');
    await ingest({ location, target: docs, home, masking: {}, name: 'format' });
    await withKnowledgeBase(location, (knowledge) => {
      assert.ok(knowledge instanceof SqliteKnowledgeBase);
      const [row] = knowledge.query<{ chunks: number }>(
        "select chunks from kb_terms where source = 'format' and lexeme = 'nginx'",
      );
      assert.equal(row?.chunks, 1, 'nginx is left in disk.md only');
      return Promise.resolve();
    });
  });

  it("fails closed when a live process has the file open without opsmate's lock", async () => {
    const file = join(work, 'two-openers', 'kb.sqlite');
    await (await openSqliteKnowledgeBase({ file })).close();
    // What two processes that both believed they held opsmate's lock would do: open it anyway.
    const code = `
      const { openSqliteLocked } = await import(${JSON.stringify(new URL('./sqlite-knowledge-base.ts', import.meta.url).pathname)});
      await openSqliteLocked({ file: process.argv[1], release: () => undefined });
      process.stdout.write('open\\n');
      setInterval(() => {}, 1000);`;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code, file], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (chunk: Buffer) => {
          if (chunk.toString().includes('open')) resolve();
        });
        child.on('exit', (exitCode) => reject(new Error(`the opener exited (${exitCode})`)));
      });
      await assert.rejects(
        openSqliteKnowledgeBase({ file, waitMs: 100 }),
        (error: Error) =>
          error instanceof OpsmateError &&
          error.message ===
            `the knowledge base in ${file} is open in another process (pid ${child.pid}) that does not hold opsmate's lock`,
      );
    } finally {
      child.kill('SIGKILL');
      await new Promise((resolve) => child.on('exit', resolve));
    }
    // Its process gone, the directory it left is removed and the file opens.
    await (await openSqliteKnowledgeBase({ file, waitMs: 100 })).close();
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
