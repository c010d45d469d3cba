/**
 * The knowledge base end to end below the CLI: ingest (folder, local git repository, re-ingest
 * after an edit and a delete, masking), ranking, hybrid search against the fake model server's
 * embeddings endpoint, a change of embedding model, a model that is down; on the embedded store
 * (SQLite) and on a real PostgreSQL server (Debian's, without pgvector: full-text only there).
 * Then what only the embedded store does: moving a PGlite store of an earlier version into
 * SQLite, its lock, and a crash in the middle of a write.
 */
import assert from 'node:assert/strict';
import { OpsmateError } from '../errors/opsmate-error.js';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { FakeLlmServer } from '../../test-support/fake-llm/index.js';
import { integrationSkip } from '../../test-support/integration.js';
import {
  createTestDatabase,
  postgresMissingReason,
  type TestDatabase,
} from '../../test-support/postgres-server.js';
import { createEmbedder } from './embedder.js';
import { englishTextLexemes } from './english-words.js';
import { openPostgresStore } from './postgres-store.js';
import { ingest } from './ingest.js';
import { PostgresKnowledgeBase, rebuiltTermStatistics, type KnowledgeBase } from './knowledge-base.js';
import { knowledgeLocation, withKnowledgeBase, type KnowledgeLocation } from './knowledge-location.js';
import { knowledgeSearcher } from './search-knowledge.js';
import { ftsToken, parseTerms, SqliteKnowledgeBase } from './sqlite-knowledge-base.js';

/**
 * Rows of a query with no parameters, on either store (the SQL must be both dialects'), numbers
 * as numbers (PostgreSQL returns counts and sums as text) except in the `lexeme` column.
 */
async function rowsOf(knowledge: KnowledgeBase, sql: string): Promise<Array<Record<string, unknown>>> {
  const rows =
    knowledge instanceof SqliteKnowledgeBase
      ? knowledge.query(sql)
      : await (knowledge as PostgresKnowledgeBase).store.query<Record<string, unknown>>(sql);
  return rows.map((row) =>
    Object.fromEntries(
      Object.entries(row).map(([key, value]) => [
        key,
        key !== 'lexeme' && typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : value,
      ]),
    ),
  );
}

/** The SQL store under a PostgreSQL knowledge base. */
function sqlOf(knowledge: KnowledgeBase): PostgresKnowledgeBase['store'] {
  assert.ok(knowledge instanceof PostgresKnowledgeBase, `a PostgreSQL store, not ${knowledge.kind}`);
  return knowledge.store;
}

/** kb_terms of `source` as a rebuild from every stored chunk would make it, on either store. */
async function rebuiltTerms(
  knowledge: KnowledgeBase,
  source: string,
): Promise<Array<{ lexeme: string; chunks: number }>> {
  if (!(knowledge instanceof SqliteKnowledgeBase))
    return await rebuiltTermStatistics(sqlOf(knowledge), source);
  const counts = new Map<string, number>();
  for (const { terms } of knowledge.query<{ terms: string }>('select terms from kb_chunks where source = ?', [
    source,
  ])) {
    for (const [lexeme] of parseTerms(terms)) counts.set(lexeme, (counts.get(lexeme) ?? 0) + 1);
  }
  return [...counts]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([lexeme, chunks]) => ({ lexeme, chunks }));
}

const RUNBOOKS: Record<string, string> = {
  'payments-db-failover.md': `# Payments database failover

The payments service keeps its ledger in PostgreSQL managed by Patroni.

## Symptoms

- Checkout returns HTTP 503 and the payments pods log \`could not connect to server\`.
- \`patronictl list\` shows no Leader for the payments cluster.

## Promote the replica

\`\`\`sh
patronictl -c /etc/patroni.yml failover payments --candidate pg-payments-2 --force
\`\`\`

| Step | Owner |
| --- | --- |
| Promote | on-call DBA |
| Repoint pgbouncer | on-call SRE |

The replication user is replicator, password: Sup3rS3cretPassw0rd!
`,
  'disk-full.md': `# Disk full on web nodes

## Symptoms
Nginx answers 500 and \`df -h\` shows /var at 100%.

## Free space
Truncate the biggest files under /var/log/nginx and run logrotate -f /etc/logrotate.d/nginx.
`,
  'tls-expiry.md': `# Expired TLS certificate

## Symptoms
Browsers warn NET::ERR_CERT_DATE_INVALID on the public site.

## Renew
Run certbot renew --cert-name www and reload nginx.
`,
  'kafka-lag.md': `# Consumer lag on the orders topic

## Symptoms
The orders consumers fall behind: kafka-consumer-groups shows a growing LAG.

## Fix
Scale the orders-consumer deployment and check for a poison message.
`,
  'replica-delay.md': `# Read replica delay

## Symptoms
Reports show stale numbers: the reporting replica is behind its primary.

## Fix
Check pg_stat_replication on the primary for a long-running query blocking WAL apply.
`,
};

function writeCorpus(dir: string): void {
  mkdirSync(dir, { recursive: true });
  for (const [name, text] of Object.entries(RUNBOOKS)) writeFileSync(join(dir, name), text);
}

/** Schema 1's chunks table: tsv was a generated column (with positions and field weights). */
const SCHEMA_1_CHUNKS = `create table kb_chunks (
  id bigserial primary key, source text not null, path text not null, ordinal integer not null,
  title text not null, heading_path text not null, start_line integer not null, end_line integer not null,
  content text not null,
  tsv tsvector generated always as (
    setweight(to_tsvector('english', title), 'A') || setweight(to_tsvector('english', heading_path), 'B') ||
    setweight(to_tsvector('english', content), 'D')) stored,
  embedding_model text)`;

function storeSuite(
  name: string,
  open: () => {
    location: KnowledgeLocation;
    home: string;
    expectVector: boolean;
    /** Another, empty store of the same kind. */
    freshLocation: () => KnowledgeLocation;
  },
): void {
  describe(name, () => {
    let fake: FakeLlmServer;
    let location: KnowledgeLocation;
    let home: string;
    let expectVector: boolean;
    let freshLocation: () => KnowledgeLocation;
    let work: string;
    before(async () => {
      ({ location, home, expectVector, freshLocation } = open());
      work = mkdtempSync(join(tmpdir(), 'wt-kb-test-'));
      fake = await FakeLlmServer.start();
    });
    after(async () => {
      await fake.close();
      rmSync(work, { recursive: true, force: true });
    });

    it('ingests a folder, masks secrets, ranks the runbook that answers first', async () => {
      const docs = join(work, 'runbooks');
      writeCorpus(docs);
      writeFileSync(join(docs, 'notes.bin.md'), Buffer.from([0x23, 0x20, 0, 1, 2]));
      const summary = await ingest({ location, target: docs, home, masking: {}, name: 'runbooks' });
      assert.equal(summary.files, 6);
      assert.equal(summary.added, 5);
      assert.deepEqual(summary.skipped, [{ path: 'notes.bin.md', reason: 'binary' }]);
      assert.ok(summary.redactions >= 1, 'the password in the runbook is masked');
      const search = knowledgeSearcher({ location });
      const failover = await search({ query: 'the payments DB has no leader, what do we do?', limit: 3 });
      assert.equal(failover.mode, 'full-text');
      assert.equal(failover.hits[0]?.path, 'payments-db-failover.md');
      const disk = await search({ query: 'nginx 500 because /var is full', limit: 3 });
      assert.equal(disk.hits[0]?.path, 'disk-full.md');
      const cert = await search({ query: 'certificate expired on the website', limit: 3 });
      assert.equal(cert.hits[0]?.path, 'tls-expiry.md');
      // The table and the code block are in one chunk with their section's heading path.
      const promote = failover.hits.find((hit) => hit.headingPath.at(-1) === 'Promote the replica');
      assert.ok(promote, 'the Promote section is found');
      assert.deepEqual(promote.headingPath, ['Payments database failover', 'Promote the replica']);
      assert.match(promote.content, /```sh\npatronictl[^\n]*\n```/);
      assert.match(promote.content, /\| Repoint pgbouncer \| on-call SRE \|/);
      assert.equal(promote.startLine, 10);
      assert.equal(promote.endLine, 21);
      assert.ok(!promote.content.includes('Sup3rS3cretPassw0rd'), promote.content);
      assert.match(promote.content, /\[REDACTED/);
      const secret = await search({ query: 'Sup3rS3cretPassw0rd', limit: 3 });
      assert.ok(secret.hits.every((hit) => !hit.content.includes('Sup3rS3cretPassw0rd')));
    });

    it('re-ingests incrementally: skips unchanged, replaces edited, forgets deleted', async () => {
      const docs = join(work, 'runbooks');
      writeFileSync(
        join(docs, 'disk-full.md'),
        '# Disk full on web nodes\n\n## Free space\nMove the core dumps from /var/crash to the archive bucket.\n',
      );
      unlinkSync(join(docs, 'tls-expiry.md'));
      const summary = await ingest({ location, target: docs, home, masking: {}, name: 'runbooks' });
      assert.deepEqual(
        {
          added: summary.added,
          changed: summary.changed,
          unchanged: summary.unchanged,
          deleted: summary.deleted,
        },
        { added: 0, changed: 1, unchanged: 3, deleted: 1 },
      );
      const search = knowledgeSearcher({ location });
      const cert = await search({ query: 'certbot renew certificate', limit: 5 });
      assert.ok(
        cert.hits.every((hit) => hit.path !== 'tls-expiry.md'),
        'the deleted runbook is forgotten',
      );
      const dumps = await search({ query: 'core dumps crash archive', limit: 1 });
      assert.equal(dumps.hits[0]?.path, 'disk-full.md');
      const old = await search({ query: 'logrotate truncate', limit: 5 });
      assert.ok(
        old.hits.every((hit) => hit.path !== 'disk-full.md'),
        'the old version is gone',
      );
      await withKnowledgeBase(location, async (knowledge) => {
        const [source] = await knowledge.sources();
        assert.equal(source?.documents, 4);
      });
    });

    it('keeps term statistics incrementally, equal to a rebuild after an add, an edit and a delete', async () => {
      const docs = join(work, 'terms');
      writeCorpus(docs);
      const expectRebuilt = async (step: string) =>
        await withKnowledgeBase(location, async (knowledge) => {
          const kept = (
            await rowsOf(knowledge, "select lexeme, chunks from kb_terms where source = 'terms'")
          ).sort((a, b) => (String(a.lexeme) < String(b.lexeme) ? -1 : 1));
          const rebuilt = await rebuiltTerms(knowledge, 'terms');
          assert.ok(rebuilt.length > 20, `${step}: the source has terms`);
          assert.deepEqual(kept, rebuilt, `${step}: kb_terms equals a rebuild from every chunk`);
          const length = knowledge.kind === 'embedded' ? 'lexemes' : 'length(tsv)';
          const [totals] = await rowsOf(
            knowledge,
            `select s.lexeme_count as kept, (select sum(${length}) from kb_chunks where source = 'terms') as counted,
               s.chunk_count as chunks, (select count(*) from kb_chunks where source = 'terms') as stored
             from kb_sources s where s.name = 'terms'`,
          );
          assert.equal(totals?.kept, totals?.counted, `${step}: the lexeme total is every chunk's lexemes`);
          assert.equal(totals?.chunks, totals?.stored, `${step}: the chunk count is what is stored`);
        });
      await ingest({ location, target: docs, home, masking: {}, name: 'terms' });
      await expectRebuilt('first ingest');
      writeFileSync(
        join(docs, 'kafka-lag.md'),
        '# Consumer lag on the orders topic\n\n## Fix\nRestart the stuck consumer and page the streaming team.\n',
      );
      unlinkSync(join(docs, 'replica-delay.md'));
      writeFileSync(
        join(docs, 'dns.md'),
        '# DNS outage\n\n## Symptoms\nNXDOMAIN for internal names; the orders consumers cannot resolve kafka.\n',
      );
      const summary = await ingest({ location, target: docs, home, masking: {}, name: 'terms' });
      assert.deepEqual([summary.added, summary.changed, summary.deleted], [1, 1, 1]);
      await expectRebuilt('after an add, an edit and a delete');
      await withKnowledgeBase(location, (knowledge) => knowledge.forget('terms'));
    });

    it('ingests a chunk of 150 000 distinct words (a word list, a dump) and finds it by them', async () => {
      const docs = join(work, 'word-list');
      mkdirSync(docs, { recursive: true });
      // 10 characters each: 1.5 MB of lexemes, over PostgreSQL's 1 MiB for one tsvector.
      const words = Array.from({ length: 150_000 }, (_, index) => `zq${index.toString(36).padStart(8, '0')}`);
      writeFileSync(join(docs, 'words.md'), `# Word list\n\n${words.join(' ')}\n`);
      const summary = await ingest({ location, target: docs, home, masking: {}, name: 'word-list' });
      assert.equal(summary.added, 1);
      await withKnowledgeBase(location, async (knowledge) => {
        const hits = await knowledge.search({
          query: 'zq00000001 zq00000002',
          limit: 3,
          source: 'word-list',
        });
        assert.equal(hits[0]?.path, 'words.md');
        assert.equal(await knowledge.forget('word-list'), true);
      });
    });

    it("writes each chunk's lexemes as the store's analysis of its fields makes them: the same lexemes and counts", async () => {
      const docs = join(work, 'lexemes');
      mkdirSync(docs, { recursive: true });
      writeFileSync(
        join(docs, 'odd-words.md'),
        [
          '# Fail-over of db-primary.prod.example.com (v1.2.3-rc1)',
          '',
          "## O'Reilly's \\back\\slash, `quoted` and 'single' words",
          '',
          'Running runs ran: see https://wiki.example.com/pages/db?id=42#fail-over and ops@example.com.',
          'Paths /var/log/nginx/error.log, C:\\temp\\x.txt, nginx.conf; numbers 42 3.14 -7 1e10 0x1F.',
          'Unicode: café naïve straße Ελληνικά 東京 emoji 🙂 and\u00a0nbsp, tab\there, the THE The a an of.',
          'Repeated repeated REPEATED words, kube-proxy kube-proxy, ERR_CONNECTION_REFUSED x'.repeat(3),
          `Long ${'z'.repeat(3000)} token, and a word after it.`,
          '',
          '## Again',
          '',
          '```sh',
          "grep -E 'fail(ed|ure)' /var/log/syslog | awk '{print $5}' && echo \"done\"",
          '```',
        ].join('\n'),
      );
      await ingest({ location, target: docs, home, masking: {}, name: 'lexemes' });
      await withKnowledgeBase(location, async (knowledge) => {
        if (knowledge instanceof SqliteKnowledgeBase) {
          // The LexemeCache's assembly (each word analysed once, fields counted per chunk) against
          // the analyser run on the whole of each field.
          const chunks = knowledge.query<{
            title: string;
            heading_path: string;
            content: string;
            terms: string;
          }>("select title, heading_path, content, terms from kb_chunks where source = 'lexemes'");
          let stored = 0;
          for (const chunk of chunks) {
            const expected = new Map<string, number>();
            for (const lexeme of englishTextLexemes(
              `${chunk.title}\n${chunk.heading_path}\n${chunk.content}`,
            )) {
              const token = ftsToken(lexeme);
              expected.set(token, (expected.get(token) ?? 0) + 1);
            }
            const kept = new Map(parseTerms(chunk.terms));
            stored += kept.size;
            assert.deepEqual(kept, expected, 'every lexeme and its count equal the analysis of the fields');
          }
          assert.ok(stored > 60, `${stored} lexeme rows stored`);
          assert.ok(
            englishTextLexemes('Running runs ran naïve café 東京').join(' ') ===
              'run run ran naïve café 東京',
            'Porter2 stems ASCII words and keeps the others',
          );
        } else {
          const counts = (tsv: string) => `
            select c.id, u.lexeme, coalesce(cardinality(u.positions), 1) as n
            from kb_chunks c cross join lateral unnest(${tsv}) u where c.source = 'lexemes'`;
          const expected = `to_tsvector('english', c.title) || to_tsvector('english', c.heading_path) || to_tsvector('english', c.content)`;
          const [compared] = await sqlOf(knowledge).query<{ stored: number; differ: number }>(
            `with stored as (${counts('c.tsv')}), analysed as (${counts(expected)})
             select (select count(*)::int from stored) as stored,
               (select count(*)::int from ((select * from stored except select * from analysed)
                 union all (select * from analysed except select * from stored)) d) as differ`,
          );
          assert.ok((compared?.stored ?? 0) > 60, `${compared?.stored} lexeme rows stored`);
          assert.equal(compared?.differ, 0, 'every lexeme and its count equal to_tsvector');
        }
        const hits = await knowledge.search({
          query: "O'Reilly fail-over kube-proxy",
          limit: 1,
          source: 'lexemes',
        });
        assert.equal(hits[0]?.path, 'odd-words.md');
      });
      await withKnowledgeBase(location, (knowledge) => knowledge.forget('lexemes'));
    });

    it('migrates a schema 1 store: tsv is no longer generated, its values are kept, and ingest goes on', async (t) => {
      const old = freshLocation();
      if (old.kind !== 'postgres') {
        t.skip('schema 1 was PostgreSQL only: the SQLite store starts at its own schema 1');
        return;
      }
      const store = await openPostgresStore({ url: old.url });
      try {
        await store.exec(`create table kb_meta (key text primary key, value text not null);
          insert into kb_meta values ('schema_version', '1'); ${SCHEMA_1_CHUNKS}`);
        await store.query(
          `insert into kb_chunks (source, path, ordinal, title, heading_path, start_line, end_line, content)
           values ('old', 'raft.md', 0, 'Raft elections', 'Raft elections', 1, 3, 'The etcd leader flaps between members.')`,
        );
      } finally {
        await store.close();
      }
      await withKnowledgeBase(old, async (knowledge) => {
        const [column] = await sqlOf(knowledge).query<{ generated: string }>(
          "select attgenerated::text as generated from pg_attribute where attrelid = 'kb_chunks'::regclass and attname = 'tsv'",
        );
        assert.equal(column?.generated, '', 'tsv is a plain column now');
        const [version] = await sqlOf(knowledge).query<{ value: string }>(
          "select value from kb_meta where key = 'schema_version'",
        );
        assert.equal(version?.value, '2');
        const [kept] = await sqlOf(knowledge).query<{ matches: boolean }>(
          "select tsv @@ 'flap'::tsquery as matches from kb_chunks where path = 'raft.md'",
        );
        assert.equal(kept?.matches, true, 'the stored tsvector is kept');
      });
      const docs = join(work, 'after-migration');
      writeCorpus(docs);
      const summary = await ingest({ location: old, target: docs, home, masking: {}, name: 'runbooks' });
      assert.equal(summary.added, 5);
      await withKnowledgeBase(old, async (knowledge) => {
        const hits = await knowledge.search({ query: 'payments leader failover', limit: 1 });
        assert.equal(hits[0]?.path, 'payments-db-failover.md');
      });
    });

    for (const readInWorker of [false, true]) {
      it(`stores nothing of an ingest stopped after some batches were written (files read ${readInWorker ? 'in a worker thread' : 'in its thread'})`, async () => {
        const docs = join(work, `stopped-${readInWorker}`);
        mkdirSync(docs, { recursive: true });
        for (let file = 0; file < 600; file++) {
          writeFileSync(
            join(docs, `page-${String(file).padStart(3, '0')}.md`),
            `# Page ${file}\n\n## One\n\nvalve${file}q opens.\n\n## Two\n\nvalve${file}q closes.\n`,
          );
        }
        const stop = new AbortController();
        let readBeforeStop = 0;
        await assert.rejects(
          ingest({
            location,
            target: docs,
            home,
            masking: {},
            name: 'stopped',
            signal: stop.signal,
            readInWorker,
            onProgress: ({ phase, done }) => {
              // The worker reports a batch at a time.
              if (phase === 'reading' && done >= 300 && readBeforeStop === 0) {
                readBeforeStop = done;
                stop.abort();
              }
            },
          }),
          (error: Error) => error.name === 'AbortError',
        );
        assert.ok(
          readBeforeStop >= 300 && readBeforeStop < 600,
          `stopped after a batch was read and before the last (${readBeforeStop})`,
        );
        await withKnowledgeBase(location, async (knowledge) => {
          const [left] = await rowsOf(
            knowledge,
            `select (select count(*) from kb_sources where name = 'stopped') as sources,
             (select count(*) from kb_documents where source = 'stopped') as documents,
             (select count(*) from kb_chunks where source = 'stopped') as chunks,
             (select count(*) from kb_terms where source = 'stopped') as terms`,
          );
          assert.deepEqual(left, { sources: 0, documents: 0, chunks: 0, terms: 0 });
        });
      });
    }

    it('ingests a large first load (over 1 000 chunks) and finds any chunk of it', async () => {
      const docs = join(work, 'bulk');
      mkdirSync(docs, { recursive: true });
      for (let file = 0; file < 300; file++) {
        const sections = Array.from({ length: 4 }, (_, step) => {
          const index = file * 4 + step;
          return `## Step ${index}\n\nCheck shard${index}x on the ledger cluster.\n`;
        });
        writeFileSync(join(docs, `ledger-${file}.md`), `# Ledger shards\n\n${sections.join('\n')}`);
      }
      // On PostgreSQL the full-text index is never dropped for a load: other readers would wait.
      const indexOid = async () =>
        await withKnowledgeBase(location, async (knowledge) =>
          knowledge.kind === 'postgres'
            ? (
                await sqlOf(knowledge).query<{ oid: string }>(
                  "select 'kb_chunks_tsv'::regclass::oid::text as oid",
                )
              )[0]?.oid
            : undefined,
        );
      const before = await indexOid();
      const summary = await ingest({ location, target: docs, home, masking: {}, name: 'bulk' });
      assert.ok(summary.chunks >= 1_000, `${summary.chunks} chunks`);
      assert.equal(await indexOid(), before, 'the index was kept');
      await withKnowledgeBase(location, async (knowledge) => {
        const hits = await knowledge.search({ query: 'shard777x', limit: 1, source: 'bulk' });
        assert.deepEqual(hits[0]?.headingPath, ['Ledger shards', 'Step 777']);
        assert.equal(hits[0]?.path, 'ledger-194.md');
        const last = await knowledge.search({ query: 'shard1199x ledger', limit: 1 });
        assert.equal(last[0]?.path, 'ledger-299.md');
        assert.deepEqual(
          await rowsOf(
            knowledge,
            "select chunks from kb_terms where source = 'bulk' and lexeme = 'shard777x'",
          ),
          [{ chunks: 1 }],
        );
        assert.equal(await knowledge.forget('bulk'), true);
      });
    });

    it('ingests a local git repository on a branch, and its next commit incrementally', async () => {
      const repo = join(work, 'repo');
      writeCorpus(join(repo, 'docs'));
      const git = (...args: string[]) =>
        execFileSync('git', ['-c', 'user.email=t@example.com', '-c', 'user.name=t', ...args], {
          cwd: repo,
          encoding: 'utf8',
        });
      git('init', '-q', '-b', 'main');
      git('add', '.');
      git('commit', '-qm', 'runbooks');
      git('checkout', '-qb', 'ops');
      writeFileSync(
        join(repo, 'docs', 'dns.md'),
        '# DNS outage\n\n## Symptoms\nResolvers return SERVFAIL for internal zones.\n',
      );
      git('add', '.');
      git('commit', '-qm', 'dns');
      git('checkout', '-q', 'main');
      const first = await ingest({
        location,
        target: `file://${repo}`,
        branch: 'ops',
        home,
        masking: {},
        name: 'team-repo',
      });
      assert.equal(first.added, 6);
      const search = knowledgeSearcher({ location });
      const dns = await search({ query: 'SERVFAIL internal zones', limit: 1, source: 'team-repo' });
      assert.equal(dns.hits[0]?.path, 'docs/dns.md');
      assert.equal(dns.hits[0]?.location, join(home, 'knowledge', 'sources', 'team-repo', 'docs', 'dns.md'));
      git('checkout', '-q', 'ops');
      unlinkSync(join(repo, 'docs', 'kafka-lag.md'));
      git('commit', '-qam', 'drop kafka');
      const second = await ingest({
        location,
        target: `file://${repo}`,
        branch: 'ops',
        home,
        masking: {},
        name: 'team-repo',
      });
      assert.deepEqual([second.added, second.changed, second.deleted, second.unchanged], [0, 0, 1, 5]);
      await assert.rejects(
        ingest({
          location,
          target: `file://${repo}`,
          branch: 'no-such-branch',
          home,
          masking: {},
          name: 'team-repo',
        }),
        /cannot clone .*no-such-branch/,
      );
    });

    it('searches hybrid with an embedding model, re-embeds on a model change, falls back when it is down', async () => {
      const env = { OPSMATE_EMBEDDING_BASE_URL: fake.openAiBaseUrl };
      const embedder = await createEmbedder({ spec: 'openai-compatible:fake-embed-a', env });
      assert.ok(embedder);
      const docs = join(work, 'hybrid');
      writeCorpus(docs);
      const summary = await ingest({ location, target: docs, home, masking: {}, name: 'hybrid', embedder });
      // "replication" and "replica" stem apart in PostgreSQL's English dictionary; the fake
      // embedding (word prefixes) brings them together.
      const query = 'replication falling behind';
      const fullText = await knowledgeSearcher({ location })({ query, limit: 3, source: 'hybrid' });
      assert.notEqual(fullText.hits[0]?.path, 'replica-delay.md');
      const warnings: string[] = [];
      const hybrid = knowledgeSearcher({ location, embedder, onFallback: (reason) => warnings.push(reason) });
      const found = await hybrid({ query, limit: 3, source: 'hybrid' });
      if (!expectVector) {
        assert.equal(summary.embedded, 0, 'no vector column: nothing embedded');
        assert.match(summary.embeddingProblem ?? '', /no pgvector extension/);
        assert.equal(found.mode, 'full-text');
        return;
      }
      // This source's chunks, and those ingested before without a model.
      assert.ok(summary.embedded > summary.chunks, `${summary.embedded} embedded`);
      assert.equal(summary.embeddingProblem, undefined);
      assert.ok(fake.embeddingRequests.some((request) => request.model === 'fake-embed-a'));
      assert.equal(found.mode, 'hybrid');
      assert.equal(found.hits[0]?.path, 'replica-delay.md');
      assert.ok(found.hits[0]?.matchedBy.includes('vector'));
      const other = await createEmbedder({ spec: 'openai-compatible:fake-embed-b', env });
      assert.ok(other);
      const again = await ingest({
        location,
        target: docs,
        home,
        masking: {},
        name: 'hybrid',
        embedder: other,
      });
      assert.equal(again.unchanged, 5);
      await withKnowledgeBase(location, async (knowledge) => {
        const stats = await knowledge.stats();
        assert.equal(
          stats.embeddedChunks['openai-compatible:fake-embed-b'],
          stats.chunks,
          'every chunk re-embedded',
        );
        assert.equal(stats.embeddedChunks['openai-compatible:fake-embed-a'], undefined);
      });
      fake.embeddingsFailWith = 503;
      try {
        const down = knowledgeSearcher({
          location,
          embedder: other,
          onFallback: (reason) => warnings.push(reason),
        });
        const first = await down({ query: 'payments failover', limit: 3 });
        const second = await down({ query: 'disk full', limit: 3 });
        assert.equal(first.mode, 'full-text');
        assert.equal(first.hits[0]?.path, 'payments-db-failover.md');
        assert.equal(second.mode, 'full-text');
        assert.equal(warnings.length, 1, 'one warning per searcher');
        assert.match(warnings[0]!, /fake-embed-b/);
      } finally {
        fake.embeddingsFailWith = undefined;
      }
    });

    it('runs two ingests of one source with an embedding model at once: both succeed, the second replaces', async () => {
      const embedder = await createEmbedder({
        spec: 'openai-compatible:fake-embed-a',
        env: { OPSMATE_EMBEDDING_BASE_URL: fake.openAiBaseUrl },
      });
      assert.ok(embedder);
      const docs = join(work, 'twice');
      writeCorpus(docs);
      // Each reads the stored hashes (none), lets the store go while it embeds, then writes.
      const [first, second] = await Promise.all([
        ingest({ location, target: docs, home, masking: {}, name: 'twice', embedder }),
        ingest({ location, target: docs, home, masking: {}, name: 'twice', embedder }),
      ]);
      assert.deepEqual([first.added, second.added], [5, 5]);
      await withKnowledgeBase(location, async (knowledge) => {
        const source = (await knowledge.sources()).find((entry) => entry.name === 'twice');
        assert.equal(source?.documents, 5);
        const [counted] = await rowsOf(
          knowledge,
          "select count(*) as chunks from kb_chunks where source = 'twice'",
        );
        assert.equal(counted?.chunks, source?.chunks, 'no document stored twice');
        assert.equal(await knowledge.forget('twice'), true);
      });
    });

    it('runs two full-text ingests of one new source at once: both succeed, nothing stored twice', async () => {
      const docs = join(work, 'twice-full-text');
      writeCorpus(docs);
      // On PostgreSQL both read the stored hashes (none) before either holds the source's lock.
      const results = await Promise.all([
        ingest({ location, target: docs, home, masking: {}, name: 'twice-ft' }),
        ingest({ location, target: docs, home, masking: {}, name: 'twice-ft' }),
      ]);
      assert.equal(results[0].added + results[0].unchanged, 5);
      await withKnowledgeBase(location, async (knowledge) => {
        const source = (await knowledge.sources()).find((entry) => entry.name === 'twice-ft');
        assert.equal(source?.documents, 5);
        const [counted] = await rowsOf(
          knowledge,
          "select count(*) as chunks from kb_chunks where source = 'twice-ft'",
        );
        assert.equal(counted?.chunks, source?.chunks, 'no document stored twice');
        assert.equal(await knowledge.forget('twice-ft'), true);
      });
    });

    it('forgets a source', async () => {
      await withKnowledgeBase(location, async (knowledge) => {
        assert.equal(await knowledge.forget('runbooks'), true);
        assert.equal(await knowledge.forget('runbooks'), false);
        const names = (await knowledge.sources()).map((source) => source.name);
        assert.ok(!names.includes('runbooks'));
        const hits = await knowledge.search({ query: 'payments failover', limit: 5, source: 'runbooks' });
        assert.deepEqual(hits, []);
      });
    });
  });
}

storeSuite('knowledge base, embedded (SQLite)', () => {
  const home = mkdtempSync(join(tmpdir(), 'wt-kb-home-'));
  return {
    home,
    location: knowledgeLocation({ home }),
    expectVector: true,
    freshLocation: () => ({
      kind: 'embedded',
      file: join(mkdtempSync(join(tmpdir(), 'wt-kb-fresh-')), 'kb.sqlite'),
    }),
  };
});

const postgresSkip = integrationSkip('PostgreSQL', postgresMissingReason());
describe('on PostgreSQL', { skip: postgresSkip }, () => {
  let database: TestDatabase | undefined;
  if (!postgresSkip) database = createTestDatabase('opsmate_kb');
  const others: TestDatabase[] = [];
  after(() => {
    database?.drop();
    for (const other of others) other.drop();
  });
  const urlOf = (db: TestDatabase) =>
    `postgres://${db.user}:${db.password}@${db.host}:${db.port}/${db.database}`;
  it("opens and searches while another process's ingest holds its lock on the chunks", async () => {
    const other = createTestDatabase('opsmate_kb_busy');
    others.push(other);
    const location: KnowledgeLocation = { kind: 'postgres', url: urlOf(other) };
    const work = mkdtempSync(join(tmpdir(), 'wt-kb-busy-'));
    try {
      writeCorpus(join(work, 'docs'));
      await ingest({ location, target: join(work, 'docs'), home: work, masking: {}, name: 'runbooks' });
      // What an ingest in progress holds until it commits: a row-exclusive lock on kb_chunks
      // (its inserts), for as long as it reads and writes.
      const ingesting = new pg.Client({ connectionString: urlOf(other) });
      await ingesting.connect();
      try {
        await ingesting.query('begin');
        await ingesting.query('lock table kb_chunks in row exclusive mode');
        const search = knowledgeSearcher({ location })({
          query: 'payments database has no leader',
          limit: 1,
        });
        let blocked: NodeJS.Timeout | undefined;
        const stillBlocked = new Promise<'blocked'>((resolve) => {
          blocked = setTimeout(() => resolve('blocked'), 20_000);
        });
        const outcome = await Promise.race([search, stillBlocked]);
        clearTimeout(blocked);
        assert.notEqual(outcome, 'blocked', 'the search waited for the ingest to commit');
        assert.equal(outcome === 'blocked' ? undefined : outcome.hits[0]?.path, 'payments-db-failover.md');
      } finally {
        await ingesting.query('rollback');
        await ingesting.end();
      }
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });

  it('fails an ingest whose connection the server drops with one clear error, and stores nothing', async () => {
    const other = createTestDatabase('opsmate_kb_dropped');
    others.push(other);
    const location: KnowledgeLocation = { kind: 'postgres', url: urlOf(other) };
    const work = mkdtempSync(join(tmpdir(), 'wt-kb-dropped-'));
    const admin = new pg.Client({ connectionString: urlOf(other) });
    await admin.connect();
    const uncaught: unknown[] = [];
    const onUncaught = (error: unknown) => uncaught.push(error);
    process.on('uncaughtException', onUncaught);
    try {
      const docs = join(work, 'docs');
      mkdirSync(docs, { recursive: true });
      for (let file = 0; file < 1200; file++) {
        writeFileSync(join(docs, `page-${file}.md`), `# Page ${file}\n\n## One\n\nvalve${file}q opens.\n`);
      }
      let dropped = false;
      await assert.rejects(
        ingest({
          location,
          target: docs,
          home: work,
          masking: {},
          name: 'dropped',
          onProgress: ({ phase, done }) => {
            if (phase !== 'reading' || done < 600 || dropped) return;
            dropped = true;
            // The ingest's own transaction, killed by the server (as a restart or an admin would).
            void admin.query(
              `select pg_terminate_backend(pid) from pg_stat_activity
               where datname = current_database() and pid <> pg_backend_pid() and xact_start is not null`,
            );
          },
        }),
        (error: unknown) =>
          OpsmateError.isInstance(error) &&
          /connection to the knowledge base at .* was lost/.test(error.message) &&
          /nothing of this transaction was stored/.test(error.hint ?? ''),
      );
      assert.ok(dropped);
      assert.deepEqual(uncaught, [], 'no uncaught exception');
      const { rows } = await admin.query(
        "select count(*)::int as n from kb_documents where source = 'dropped'",
      );
      assert.equal(rows[0].n, 0, 'nothing stored');
    } finally {
      process.off('uncaughtException', onUncaught);
      await admin.end();
      rmSync(work, { recursive: true, force: true });
    }
  });

  storeSuite('knowledge base, PostgreSQL (no pgvector on Debian 12)', () => {
    const home = mkdtempSync(join(tmpdir(), 'wt-kb-home-'));
    const db = database!;
    return {
      home,
      location: { kind: 'postgres', url: urlOf(db) },
      expectVector: false,
      freshLocation: () => {
        const other = createTestDatabase('opsmate_kb_fresh');
        others.push(other);
        return { kind: 'postgres', url: urlOf(other) };
      },
    };
  });
});
