/**
 * Knowledge base: retrieval quality (recall@5 on bench/corpora/runbooks: 59 runbooks, 118
 * operator questions), ingest throughput, and search latency on 10 000 chunks, embedded (PGlite)
 * and on PostgreSQL (Debian's server, when it runs here), full-text only. The comparison for
 * quality is PostgreSQL's own ts_rank_cd over the same OR query, in the same run; latency runs
 * the two stores interleaved, query by query.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ingest } from '../src/knowledge/ingest.js';
import type { KnowledgeBase } from '../src/knowledge/knowledge-base.js';
import { withKnowledgeBase, type KnowledgeLocation } from '../src/knowledge/knowledge-location.js';
import { openEmbeddedStore } from '../src/knowledge/embedded-store.js';
import { openPostgresStore } from '../src/knowledge/postgres-store.js';
import { KnowledgeBase as Knowledge } from '../src/knowledge/knowledge-base.js';
import { SecretRedactor } from '../src/safety/secret-redactor.js';
import { createTestDatabase, postgresMissingReason } from '../test-support/postgres-server.js';
import { machineLine, median, percentile, report } from './bench-support.js';

const CORPUS = new URL('./corpora/runbooks/', import.meta.url).pathname;
const QUESTIONS = JSON.parse(readFileSync(join(CORPUS, 'questions.json'), 'utf8')) as Array<{
  question: string;
  answer: string;
}>;
const TARGET_CHUNKS = 10_000;
const redactor = new SecretRedactor({});
const redact = (text: string) => redactor.redact(text, { keepLineCount: true });

/** PostgreSQL's own ranking over the same OR query: the comparison for recall. */
async function tsRankTop(knowledge: KnowledgeBase, query: string, limit: number): Promise<string[]> {
  const rows = await knowledge.store.query<{ path: string }>(
    `with q as (select string_agg(quote_literal(lexeme), ' | ')::tsquery as q from unnest(to_tsvector('english', $1::text)))
     select path from kb_chunks, q where tsv @@ q.q order by ts_rank_cd(tsv, q.q) desc, id limit $2`,
    [query, limit],
  );
  return rows.map((row) => row.path);
}

async function recall(location: KnowledgeLocation, label: string): Promise<void> {
  await withKnowledgeBase(location, async (knowledge) => {
    let ours = 0;
    let plain = 0;
    let baseline = 0;
    let reciprocal = 0;
    for (const { question, answer } of QUESTIONS) {
      const hits = await knowledge.search({ query: question, limit: 5 });
      const rank = hits.findIndex((hit) => hit.path === answer);
      if (rank >= 0) {
        ours++;
        reciprocal += 1 / (rank + 1);
      }
      const noSynonyms = await knowledge.search({ query: question, limit: 5, expandSynonyms: false });
      if (noSynonyms.some((hit) => hit.path === answer)) plain++;
      if ((await tsRankTop(knowledge, question, 5)).includes(answer)) baseline++;
    }
    const total = QUESTIONS.length;
    report(`${label}: recall@5, BM25 + ops synonyms (ours)`, (ours / total).toFixed(3), '>= 0.85');
    report(`${label}: MRR@5, BM25 + ops synonyms (ours)`, (reciprocal / total).toFixed(3));
    report(`${label}: recall@5, BM25 without synonyms`, (plain / total).toFixed(3));
    report(`${label}: recall@5, ts_rank_cd (PostgreSQL's own)`, (baseline / total).toFixed(3));
  });
}

/** The corpus copied until it makes about TARGET_CHUNKS chunks; each copy is told apart. */
function scaledCorpus(dir: string, chunksPerCopy: number): number {
  const docs = readdirSync(join(CORPUS, 'docs'));
  const copies = Math.ceil(TARGET_CHUNKS / chunksPerCopy);
  let bytes = 0;
  for (let copy = 0; copy < copies; copy++) {
    const target = join(dir, `region-${copy}`);
    mkdirSync(target, { recursive: true });
    for (const name of docs) {
      const text = readFileSync(join(CORPUS, 'docs', name), 'utf8').replace(
        /^# (.*)$/m,
        `# $1 (region eu-${copy}, cluster c${copy * 7 + 3})`,
      );
      writeFileSync(join(target, name), text);
      bytes += Buffer.byteLength(text);
    }
  }
  return bytes;
}

async function timeIngest(
  location: KnowledgeLocation,
  home: string,
  dir: string,
  bytes: number,
  label: string,
) {
  const started = performance.now();
  const summary = await ingest({ location, target: dir, home, redact, name: 'scaled' });
  const seconds = (performance.now() - started) / 1000;
  report(
    `${label}: ingest ${summary.files} files, ${summary.chunks} chunks`,
    `${(bytes / 1e6 / seconds).toFixed(2)} MB/s`,
    '>= 5 MB/s',
  );
  report(`${label}: ingest wall time (${(bytes / 1e6).toFixed(1)} MB)`, `${seconds.toFixed(2)} s`);
  const again = performance.now();
  await ingest({ location, target: dir, home, redact, name: 'scaled' });
  report(`${label}: re-ingest, nothing changed`, `${((performance.now() - again) / 1000).toFixed(2)} s`);
  return summary.chunks;
}

async function main(): Promise<void> {
  console.log(machineLine());
  console.log(
    `load average at start: ${loadavg()
      .map((value) => value.toFixed(2))
      .join(' ')}`,
  );
  const work = mkdtempSync(join(tmpdir(), 'wt-kb-bench-'));
  const postgresMissing = postgresMissingReason();
  const database = postgresMissing ? undefined : createTestDatabase('opsmate_kb_bench');
  try {
    const embedded: KnowledgeLocation = { kind: 'embedded', dataDir: join(work, 'small', 'store') };
    await ingest({
      location: embedded,
      target: join(CORPUS, 'docs'),
      home: join(work, 'small'),
      redact,
      name: 'runbooks',
    });
    await recall(embedded, 'embedded');
    const postgres: KnowledgeLocation | undefined = database
      ? {
          kind: 'postgres',
          url: `postgres://${database.user}:${database.password}@${database.host}:${database.port}/${database.database}`,
        }
      : undefined;
    if (postgres) {
      await ingest({
        location: postgres,
        target: join(CORPUS, 'docs'),
        home: join(work, 'small'),
        redact,
        name: 'runbooks',
      });
      await recall(postgres, 'postgres');
      await withKnowledgeBase(postgres, (knowledge) => knowledge.forget('runbooks'));
    } else console.log(`postgres: skipped (${postgresMissing})`);

    const chunksPerCopy = await withKnowledgeBase(
      embedded,
      async (knowledge) => (await knowledge.stats()).chunks,
    );
    const scaled = join(work, 'scaled');
    const bytes = scaledCorpus(scaled, chunksPerCopy);
    const big: KnowledgeLocation = { kind: 'embedded', dataDir: join(work, 'big', 'store') };
    const chunks = await timeIngest(big, join(work, 'big'), scaled, bytes, 'embedded');
    if (postgres) await timeIngest(postgres, join(work, 'big'), scaled, bytes, 'postgres');

    // Search latency on the open stores, interleaved query by query.
    const embeddedStore = await Knowledge.open(await openEmbeddedStore({ dataDir: big.dataDir }));
    const postgresStore =
      postgres && postgres.kind === 'postgres'
        ? await Knowledge.open(await openPostgresStore({ url: postgres.url }))
        : undefined;
    const times: { embedded: number[]; postgres: number[] } = { embedded: [], postgres: [] };
    try {
      for (const { question } of QUESTIONS.slice(0, 10)) {
        await embeddedStore.search({ query: question, limit: 5 });
        await postgresStore?.search({ query: question, limit: 5 });
      }
      for (let round = 0; round < 2; round++) {
        for (const { question } of QUESTIONS) {
          let started = performance.now();
          await embeddedStore.search({ query: question, limit: 5 });
          times.embedded.push(performance.now() - started);
          if (postgresStore) {
            started = performance.now();
            await postgresStore.search({ query: question, limit: 5 });
            times.postgres.push(performance.now() - started);
          }
        }
      }
    } finally {
      await embeddedStore.close();
      await postgresStore?.close();
    }
    report(
      `embedded: search p50 on ${chunks} chunks`,
      `${median(times.embedded).toFixed(1)} ms`,
      'p50 <= 30 ms',
    );
    report(`embedded: search p95 on ${chunks} chunks`, `${percentile(times.embedded, 0.95).toFixed(1)} ms`);
    if (postgresStore) {
      report(`postgres: search p50 on ${chunks} chunks`, `${median(times.postgres).toFixed(1)} ms`);
      report(`postgres: search p95 on ${chunks} chunks`, `${percentile(times.postgres, 0.95).toFixed(1)} ms`);
      report('embedded / postgres p50', `${(median(times.embedded) / median(times.postgres)).toFixed(2)}x`);
    }
    // What one KnowledgeRetrieval call or `kb search` costs on the embedded store: open, search, close.
    const cold: number[] = [];
    for (const { question } of QUESTIONS.slice(0, 8)) {
      const started = performance.now();
      await withKnowledgeBase(big, (knowledge) => knowledge.search({ query: question, limit: 5 }));
      cold.push(performance.now() - started);
    }
    report('embedded: open + search + close, median of 8', `${median(cold).toFixed(0)} ms`);
    console.log(
      `load average at end: ${loadavg()
        .map((value) => value.toFixed(2))
        .join(' ')}`,
    );
  } finally {
    database?.drop();
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
