/**
 * Knowledge base: retrieval quality (recall@5 on bench/corpora/runbooks: 59 runbooks, 118
 * operator questions; and on bench/corpora/runbooks-b, written separately on other incidents, 44
 * runbooks and 88 questions, which the synonym table was not tuned on), ingest throughput (about
 * 5 MB: the corpus copied; first start and steady state), and search latency on 10 000 chunks,
 * embedded (SQLite) and on PostgreSQL (Debian's server, when it runs here), full-text only. The
 * comparisons, in the same run: for quality PostgreSQL's own ts_rank_cd over the same OR query;
 * for ingest PGlite (the embedded store before SQLite), interleaved round by round; latency runs
 * the stores interleaved, query by query. `KB_BENCH_ONLY=floor` shows where PGlite's write time
 * went.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import type * as IngestModule from '../src/knowledge/ingest.js';
import type * as LocationModule from '../src/knowledge/knowledge-location.js';
import type * as ChunkerModule from '../src/knowledge/chunk-document.js';
import type * as ReaderModule from '../src/knowledge/read-documents.js';
import type * as LexemesModule from '../src/knowledge/chunk-lexemes.js';
import type * as SqliteModule from '../src/knowledge/sqlite-knowledge-base.js';
import type * as MaskerModule from '../src/safety/secret-redactor.js';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ingest } from '../src/knowledge/ingest.js';
import { chunkColumns, INSERT_BATCH, PostgresKnowledgeBase } from '../src/knowledge/knowledge-base.js';
import {
  knowledgeLocation,
  openKnowledgeBase,
  withKnowledgeBase,
  type KnowledgeLocation,
} from '../src/knowledge/knowledge-location.js';
import { openPgliteStore } from '../src/knowledge/pglite-store.js';
import { SecretRedactor } from '../src/safety/secret-redactor.js';
import { chunkDocument } from '../src/knowledge/chunk-document.js';
import { LexemeCache, postgresWordAnalyser } from '../src/knowledge/chunk-lexemes.js';
import { groupByDocument } from '../src/knowledge/group-hits.js';
import { CANDIDATES_PER_DOCUMENT } from '../src/knowledge/search-knowledge.js';
import { createTestDatabase, postgresMissingReason } from '../test-support/postgres-server.js';
import { machineLine, median, percentile, report } from './bench-support.js';

interface Question {
  question: string;
  answer: string;
  /** runbooks-b: `quoted` (may quote the error or the runbook's words) or `paraphrase` (symptoms only). */
  kind?: string;
}
const corpusDir = (name: string) => new URL(`./corpora/${name}/`, import.meta.url).pathname;
/**
 * The ingest as opsmate ships it, for the throughput rows: the built modules (`npm run bench`
 * builds them first), not these sources through tsx, whose reader thread would compile every
 * module again at each start.
 */
const shipped = await loadShipped();
async function loadShipped() {
  const dist = (path: string) => new URL(`../dist/${path}`, import.meta.url).href;
  const [ingestModule, location, chunker, reader, lexemes, tokens, masker] = await Promise.all([
    import(dist('knowledge/ingest.js')) as Promise<typeof IngestModule>,
    import(dist('knowledge/knowledge-location.js')) as Promise<typeof LocationModule>,
    import(dist('knowledge/chunk-document.js')) as Promise<typeof ChunkerModule>,
    import(dist('knowledge/read-documents.js')) as Promise<typeof ReaderModule>,
    import(dist('knowledge/chunk-lexemes.js')) as Promise<typeof LexemesModule>,
    import(dist('knowledge/sqlite-knowledge-base.js')) as Promise<typeof SqliteModule>,
    import(dist('safety/secret-redactor.js')) as Promise<typeof MaskerModule>,
  ]);
  const redactor = new masker.SecretRedactor({});
  return {
    ingest: ingestModule.ingest,
    knowledgeLocation: location.knowledgeLocation,
    withKnowledgeBase: location.withKnowledgeBase,
    chunkDocument: chunker.chunkDocument,
    contentHash: reader.contentHash,
    LexemeCache: lexemes.LexemeCache,
    tokenAnalyser: tokens.tokenAnalyser,
    redact: (text: string) => redactor.redact(text, { keepLineCount: true }),
  };
}
/** The built CLI (`npm run bench` builds it first). */
const CLI = new URL('../bin/opsmate.js', import.meta.url).pathname;
const questionsOf = (dir: string) =>
  JSON.parse(readFileSync(join(dir, 'questions.json'), 'utf8')) as Question[];
/** The first corpus: its recall lines keep their labels; throughput and latency run on it. */
const CORPUS = corpusDir('runbooks');
const QUESTIONS = questionsOf(CORPUS);
/** Recall is measured on each of these corpora (KB_BENCH_CORPORA, comma-separated names under corpora/). */
const RECALL_CORPORA = (process.env.KB_BENCH_CORPORA ?? 'runbooks,runbooks-b').split(',').filter(Boolean);
/** `recall`: retrieval quality only (quick); `ingest`: ingest throughput only; else the whole bench. */
const ONLY = process.env.KB_BENCH_ONLY ?? '';
const TARGET_CHUNKS = 10_000;
/** Copies of the corpus for the ingest throughput: about 5 MB of Markdown. */
const THROUGHPUT_COPIES = Number(process.env.KB_BENCH_COPIES ?? 120);
const ROUNDS = Number(process.env.KB_BENCH_ROUNDS ?? 3);
const redactor = new SecretRedactor({});
const redact = (text: string) => redactor.redact(text, { keepLineCount: true });

/** PostgreSQL's own ranking over the same OR query: the comparison for recall (PostgreSQL only). */
async function tsRankTop(knowledge: PostgresKnowledgeBase, query: string, limit: number): Promise<string[]> {
  const rows = await knowledge.store.query<{ path: string }>(
    // PostgreSQL's own analysis, positions and field weights included (what ts_rank_cd reads).
    `with q as (select string_agg(quote_literal(lexeme), ' | ')::tsquery as q from unnest(to_tsvector('english', $1::text))),
     d as (select id, path, setweight(to_tsvector('english', title), 'A') || setweight(to_tsvector('english', heading_path), 'B') ||
       setweight(to_tsvector('english', content), 'D') as tsv from kb_chunks)
     select path from d, q where tsv @@ q.q order by ts_rank_cd(tsv, q.q) desc, id limit $2`,
    [query, limit],
  );
  return rows.map((row) => row.path);
}

async function recall(location: KnowledgeLocation, label: string, questions: Question[]): Promise<void> {
  await withKnowledgeBase(location, async (knowledge) => {
    let ours = 0;
    let plain = 0;
    let baseline = 0;
    let reciprocal = 0;
    let grouped = 0;
    let groupedReciprocal = 0;
    const missed: string[] = [];
    /** Per question kind: [found with synonyms, found without, found by ts_rank_cd, questions]. */
    const kinds = new Map<string, [number, number, number, number]>();
    for (const { question, answer, kind } of questions) {
      const counts = kinds.get(kind ?? '') ?? [0, 0, 0, 0];
      kinds.set(kind ?? '', counts);
      counts[3]++;
      const hits = await knowledge.search({ query: question, limit: 5 });
      const rank = hits.findIndex((hit) => hit.path === answer);
      if (rank >= 0) {
        ours++;
        counts[0]++;
        reciprocal += 1 / (rank + 1);
      } else missed.push(`${answer}: ${question}`);
      // What KnowledgeRetrieval shows the model: 5 runbooks, ranked from more chunks, grouped.
      const candidates = await knowledge.search({ query: question, limit: 5 * CANDIDATES_PER_DOCUMENT });
      const documents = groupByDocument(candidates, { documents: 5, chunksPerDocument: 3 });
      const documentRank = documents.findIndex((document) => document.path === answer);
      if (documentRank >= 0) {
        grouped++;
        groupedReciprocal += 1 / (documentRank + 1);
      }
      const noSynonyms = await knowledge.search({ query: question, limit: 5, expandSynonyms: false });
      if (noSynonyms.some((hit) => hit.path === answer)) {
        plain++;
        counts[1]++;
      }
      if (
        knowledge instanceof PostgresKnowledgeBase &&
        (await tsRankTop(knowledge, question, 5)).includes(answer)
      ) {
        baseline++;
        counts[2]++;
      }
    }
    const total = questions.length;
    if (process.env.KB_BENCH_MISSED) for (const line of missed) console.log(`  missed: ${line}`);
    report(`${label}: recall@5, BM25 + ops synonyms (ours)`, (ours / total).toFixed(3), '>= 0.85');
    report(`${label}: MRR@5, BM25 + ops synonyms (ours)`, (reciprocal / total).toFixed(3));
    report(
      `${label}: recall@5 / MRR@5 of runbooks as KnowledgeRetrieval groups them`,
      `${(grouped / total).toFixed(3)} / ${(groupedReciprocal / total).toFixed(3)}`,
    );
    report(`${label}: recall@5, BM25 without synonyms`, (plain / total).toFixed(3));
    const postgres = knowledge instanceof PostgresKnowledgeBase;
    if (postgres) report(`${label}: recall@5, ts_rank_cd (PostgreSQL's own)`, (baseline / total).toFixed(3));
    for (const [kind, [found, foundPlain, foundBaseline, count]] of kinds) {
      if (kind === '') continue;
      report(
        `${label}: recall@5 on ${count} ${kind} questions, with / without synonyms${postgres ? ' / ts_rank_cd' : ''}`,
        `${(found / count).toFixed(3)} / ${(foundPlain / count).toFixed(3)}${postgres ? ` / ${(foundBaseline / count).toFixed(3)}` : ''}`,
      );
    }
  });
}

/**
 * Many ingest and forget cycles on one PostgreSQL database (`KB_BENCH_ONLY=soak`, `KB_SOAK_CYCLES`,
 * default 20): a team's shared knowledge base lives for years, and one scratch database where a
 * source had been ingested and forgotten a few dozen times once ingested 10x slower than a fresh
 * one. Each cycle ingests the scaled corpus while another connection searches, re-ingests one
 * edited file, and forgets the source; the per-cycle times and the table's dead rows are printed,
 * and the ratio of the last three cycles' median to the first three's.
 */
async function soak(work: string, postgres: KnowledgeLocation): Promise<void> {
  const cycles = Number(process.env.KB_SOAK_CYCLES ?? 20);
  const dir = join(work, 'soak');
  const bytes = scaledCorpus(dir, THROUGHPUT_COPIES);
  const edited = join(dir, 'region-0', readdirSync(join(dir, 'region-0'))[0]!);
  const original = readFileSync(edited, 'utf8');
  const run = () =>
    ingest({ location: postgres, target: dir, home: join(work, 'soak-home'), masking: {}, name: 'soak' });
  const ingestTimes: number[] = [];
  const searchLatencies: number[] = [];
  console.log(
    `soak: ${cycles} cycles of ingest (${(bytes / 1e6).toFixed(1)} MB), edit, forget on one database`,
  );
  await withKnowledgeBase(postgres, async (searcher) => {
    for (let cycle = 0; cycle < cycles; cycle++) {
      let ingesting = true;
      const searching = (async () => {
        let index = 0;
        while (ingesting && index < 1_000) {
          const started = performance.now();
          await searcher.search({ query: 'disk full on the database primary', limit: 5 });
          searchLatencies.push(performance.now() - started);
          index++;
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      })();
      const started = performance.now();
      await run();
      ingestTimes.push(seconds(started));
      ingesting = false;
      await searching;
      writeFileSync(edited, `${original}\n## Aftercare\n\nCycle ${cycle}.\n`);
      const edit = performance.now();
      await run();
      const editSeconds = seconds(edit);
      writeFileSync(edited, original);
      const forget = performance.now();
      await withKnowledgeBase(postgres, (knowledge) => knowledge.forget('soak'));
      const forgetSeconds = seconds(forget);
      const dead = await withKnowledgeBase(postgres, async (knowledge) => {
        const rows = await (knowledge as PostgresKnowledgeBase).store.query<{
          dead: string;
          vacuums: string;
        }>(
          `select n_dead_tup::text as dead, (autovacuum_count + vacuum_count)::text as vacuums
             from pg_stat_user_tables where relname = 'kb_chunks'`,
        );
        return rows[0];
      });
      console.log(
        `  cycle ${String(cycle + 1).padStart(2)}: ingest ${ingestTimes[cycle]!.toFixed(2)} s, edit ${editSeconds.toFixed(2)} s, ` +
          `forget ${forgetSeconds.toFixed(2)} s; kb_chunks dead rows ${dead?.dead ?? '?'}, vacuums ${dead?.vacuums ?? '?'}`,
      );
    }
  });
  const first = median(ingestTimes.slice(0, 3));
  const last = median(ingestTimes.slice(-3));
  report('soak: ingest, median of the first 3 cycles', rate(bytes, first));
  report('soak: ingest, median of the last 3 cycles', rate(bytes, last));
  report('soak: last / first', `${(last / first).toFixed(2)}x`);
  report(
    'soak: search during ingest, p50 / p95 / max',
    `${median(searchLatencies).toFixed(1)} / ${percentile(searchLatencies, 0.95).toFixed(1)} / ${Math.max(...searchLatencies).toFixed(1)} ms (${searchLatencies.length})`,
  );
}

/** `copies` copies of `corpus` under `dir`; each copy's titles name another region and cluster. */
function scaledCorpus(dir: string, copies: number, corpus = CORPUS): number {
  const docs = readdirSync(join(corpus, 'docs'));
  let bytes = 0;
  for (let copy = 0; copy < copies; copy++) {
    const target = join(dir, `region-${copy}`);
    mkdirSync(target, { recursive: true });
    for (const name of docs) {
      const text = readFileSync(join(corpus, 'docs', name), 'utf8').replace(
        /^# (.*)$/m,
        `# $1 (region eu-${copy}, cluster c${copy * 7 + 3})`,
      );
      writeFileSync(join(target, name), text);
      bytes += Buffer.byteLength(text);
    }
  }
  return bytes;
}

const seconds = (since: number) => (performance.now() - since) / 1000;
const rate = (bytes: number, time: number) =>
  `${(bytes / 1e6 / time).toFixed(2)} MB/s (${time.toFixed(2)} s)`;

/**
 * Ingest throughput, full-text only, on THROUGHPUT_COPIES copies of the corpus (several MB):
 * ROUNDS rounds, embedded and PostgreSQL interleaved, medians. Embedded "first start" is a
 * store that does not exist yet (its initdb counted: what the first `opsmate ingest` on a
 * machine pays); "steady state" is a store that exists (initdb done before the clock starts).
 * Each ingest is the whole `ingest()`: open, stored hashes, read, mask, chunk, write, commit, close.
 */
/** Runs `work` and adds its wall time, in seconds, to `into`. */
async function timed<T>(into: number[], work: () => Promise<T>): Promise<T> {
  const started = performance.now();
  const result = await work();
  into.push(seconds(started));
  return result;
}

interface IngestTimes {
  ingest: number[];
  unchanged: number[];
  edit: number[];
}

/** A whole ingest, a re-ingest with nothing changed, and one after `edited` changed, each timed. */
async function ingestSeries(options: {
  location: KnowledgeLocation;
  home: string;
  dir: string;
  edited: string;
  round: number;
  into: IngestTimes;
}): Promise<void> {
  const run = () =>
    shipped.ingest({
      location: options.location,
      target: options.dir,
      home: options.home,
      masking: {},
      name: 'scaled',
    });
  const original = readFileSync(options.edited, 'utf8');
  await timed(options.into.ingest, run);
  await timed(options.into.unchanged, run);
  writeFileSync(
    options.edited,
    `${original}\n## Aftercare\n\nWrite the postmortem within two days (round ${options.round}).\n`,
  );
  try {
    await timed(options.into.edit, run);
  } finally {
    writeFileSync(options.edited, original);
  }
}

async function throughput(work: string, postgres: KnowledgeLocation | undefined): Promise<void> {
  const dir = join(work, 'throughput');
  const bytes = scaledCorpus(dir, THROUGHPUT_COPIES);
  const times = {
    floor: [] as number[],
    first: [] as number[],
    initdb: [] as number[],
    open: [] as number[],
    pgliteOpen: [] as number[],
  };
  const steady: IngestTimes = { ingest: [], unchanged: [], edit: [] };
  const inThread: number[] = [];
  const cli: number[] = [];
  const pglite: IngestTimes = { ingest: [], unchanged: [], edit: [] };
  const pg: IngestTimes = { ingest: [], unchanged: [], edit: [] };
  let files = 0;
  let chunks = 0;
  const edited = join(dir, 'region-0', readdirSync(join(dir, 'region-0'))[0]!);
  const paths = readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name))
    .sort();
  for (let round = 0; round < ROUNDS; round++) {
    // What an embedded ingest does before SQLite sees a row: each file stat'ed, read, hashed,
    // masked and chunked, and the chunks' words analysed (ingest.ts, chunk-lexemes.ts).
    await timed(times.floor, async () => {
      const cache = new shipped.LexemeCache(shipped.tokenAnalyser);
      for (let start = 0; start < paths.length; start += 100) {
        const chunks = paths.slice(start, start + 100).flatMap((path) => {
          statSync(path);
          const content = readFileSync(path);
          shipped.contentHash(content);
          return shipped
            .chunkDocument({ path, text: shipped.redact(content.toString('utf8')).text })
            .map((chunk) => ({
              ...chunk,
              headingPath: chunk.headingPath.join(' > '),
            }));
        });
        await cache.analyse(chunks, () => undefined);
      }
    });
    const firstHome = join(work, `first-${round}`);
    const first = shipped.knowledgeLocation({ home: firstHome });
    const summary = await timed(times.first, () =>
      shipped.ingest({ location: first, target: dir, home: firstHome, masking: {}, name: 'scaled' }),
    );
    files = summary.files;
    chunks = summary.chunks;
    rmSync(firstHome, { recursive: true, force: true });

    const steadyHome = join(work, `steady-${round}`);
    const location = shipped.knowledgeLocation({ home: steadyHome });
    await timed(times.initdb, () => shipped.withKnowledgeBase(location, async () => undefined));
    await timed(times.open, () => shipped.withKnowledgeBase(location, async () => undefined));
    await ingestSeries({ location, home: steadyHome, dir, edited, round, into: steady });
    rmSync(steadyHome, { recursive: true, force: true });
    await timed(inThread, () => inThreadIngest(work, dir, round));
    cli.push(cliIngest(work, dir, round));

    // The comparison: PGlite, the embedded store before SQLite, with its bulk load.
    const pgliteHome = join(work, `pglite-${round}`);
    const old: KnowledgeLocation = { kind: 'pglite', dataDir: join(pgliteHome, 'store') };
    await shipped.withKnowledgeBase(old, async () => undefined);
    await timed(times.pgliteOpen, () => shipped.withKnowledgeBase(old, async () => undefined));
    await ingestSeries({ location: old, home: pgliteHome, dir, edited, round, into: pglite });
    rmSync(pgliteHome, { recursive: true, force: true });

    if (postgres) {
      await ingestSeries({ location: postgres, home: join(work, 'pg'), dir, edited, round, into: pg });
      await shipped.withKnowledgeBase(postgres, (knowledge) => knowledge.forget('scaled'));
    }
  }
  const size = `${(bytes / 1e6).toFixed(1)} MB, ${files} files, ${chunks} chunks`;
  console.log(`ingest corpus: ${size}; medians of ${ROUNDS} rounds`);
  report('embedded: ingest, steady state (store exists)', rate(bytes, median(steady.ingest)), '>= 5 MB/s');
  report('floor: read, hash, mask, chunk, analyse; no store', rate(bytes, median(times.floor)));
  report('embedded: ingest, first start (store created)', rate(bytes, median(times.first)), '>= 5 MB/s');
  report(
    "embedded: the same, files read in ingest's thread (no reader thread)",
    rate(bytes, median(inThread)),
  );
  report(
    'embedded: `opsmate ingest` in a fresh process, store created',
    rate(bytes, median(cli)),
    '>= 5 MB/s',
  );
  report('embedded: create the store (first open + schema)', `${median(times.initdb).toFixed(3)} s`);
  report('embedded: open + close of an existing store', `${median(times.open).toFixed(3)} s`);
  report('embedded: re-ingest, nothing changed', `${median(steady.unchanged).toFixed(2)} s`);
  report('embedded: re-ingest, one file edited', `${median(steady.edit).toFixed(2)} s`);
  report('pglite (before): ingest, steady state', rate(bytes, median(pglite.ingest)));
  report('pglite (before): open + close of an existing store', `${median(times.pgliteOpen).toFixed(3)} s`);
  report(
    'pglite (before): re-ingest, nothing changed / one file edited',
    `${median(pglite.unchanged).toFixed(2)} s / ${median(pglite.edit).toFixed(2)} s`,
  );
  report('embedded ingest speed / pglite', `${(median(pglite.ingest) / median(steady.ingest)).toFixed(2)}x`);
  if (postgres) {
    report('postgres: ingest (database exists)', rate(bytes, median(pg.ingest)), '>= 5 MB/s');
    report('postgres: re-ingest, nothing changed', `${median(pg.unchanged).toFixed(2)} s`);
    report('postgres: re-ingest, one file edited', `${median(pg.edit).toFixed(2)} s`);
  }
}

/**
 * The embedded ingest on a second corpus of larger runbooks (bench/corpora/runbooks-b, 2.2 KB a
 * file against 0.74 KB): about 5 MB of copies, a new store each time, with the reader thread,
 * without it, and through the CLI, interleaved round by round.
 */
async function throughputOfLargerRunbooks(work: string): Promise<void> {
  const dir = join(work, 'throughput-b');
  const corpus = corpusDir('runbooks-b');
  const perCopy = readdirSync(join(corpus, 'docs')).reduce(
    (sum, name) => sum + statSync(join(corpus, 'docs', name)).size,
    0,
  );
  const bytes = scaledCorpus(dir, Math.round(5.3e6 / perCopy), corpus);
  const times = { worker: [] as number[], inThread: [] as number[], cli: [] as number[] };
  let summary = '';
  for (let round = 0; round < ROUNDS; round++) {
    const home = join(work, `b-${round}`);
    await timed(times.worker, async () => {
      const result = await shipped.ingest({
        location: shipped.knowledgeLocation({ home }),
        target: dir,
        home,
        masking: {},
        name: 'b',
      });
      summary = `${(bytes / 1e6).toFixed(1)} MB, ${result.files} files, ${result.chunks} chunks`;
    });
    rmSync(home, { recursive: true, force: true });
    await timed(times.inThread, () => inThreadIngest(work, dir, round));
    times.cli.push(cliIngest(work, dir, round));
  }
  console.log(`ingest corpus runbooks-b copies: ${summary}; medians of ${ROUNDS} rounds`);
  report('runbooks-b: embedded ingest, store created', rate(bytes, median(times.worker)), '>= 5 MB/s');
  report("runbooks-b: the same, files read in ingest's thread", rate(bytes, median(times.inThread)));
  report('runbooks-b: `opsmate ingest` in a fresh process', rate(bytes, median(times.cli)), '>= 5 MB/s');
}

/** An embedded ingest of `dir` into a new store, the files read in ingest's own thread. */
async function inThreadIngest(work: string, dir: string, round: number): Promise<void> {
  const home = join(work, `in-thread-${round}`);
  await shipped.ingest({
    location: shipped.knowledgeLocation({ home }),
    target: dir,
    home,
    masking: {},
    name: 'scaled',
    readInWorker: false,
  });
  rmSync(home, { recursive: true, force: true });
}

/**
 * Seconds of a whole `opsmate ingest DIR` (the built CLI, a new store): what a user waits for,
 * Node's start and every module load and JIT warm-up included.
 */
function cliIngest(work: string, dir: string, round: number): number {
  const home = join(work, `cli-${round}`);
  const started = performance.now();
  const result = spawnSync(process.execPath, [CLI, 'ingest', dir, '--name', 'scaled'], {
    env: { ...process.env, OPSMATE_HOME: home },
    encoding: 'utf8',
  });
  const elapsed = seconds(started);
  if (result.status !== 0) throw new Error(`opsmate ingest failed: ${result.stderr}`);
  rmSync(home, { recursive: true, force: true });
  return elapsed;
}

/**
 * Where the embedded store's write time goes, on the same rows as the throughput corpus, in one
 * transaction of 500-row INSERTs each (ROUNDS rounds, variants interleaved, medians): the rows alone (no tsvector: PGlite's floor), with the
 * stored tsvector, with its GIN index, and with kb_terms from ts_stat. Chunking and masking are
 * timed in-process on the same text.
 */
async function writeFloor(work: string): Promise<void> {
  const docs = readdirSync(join(CORPUS, 'docs')).map((name) => ({
    name,
    text: readFileSync(join(CORPUS, 'docs', name), 'utf8'),
  }));
  const texts: Array<{ path: string; text: string }> = [];
  for (let copy = 0; copy < THROUGHPUT_COPIES; copy++) {
    for (const doc of docs) {
      texts.push({
        path: `region-${copy}/${doc.name}`,
        text: doc.text.replace(/^# (.*)$/m, `# $1 (region eu-${copy})`),
      });
    }
  }
  const bytes = texts.reduce((sum, doc) => sum + Buffer.byteLength(doc.text), 0);
  let started = performance.now();
  const masked = texts.map((doc) => ({ path: doc.path, text: redact(doc.text).text }));
  const mask = seconds(started);
  started = performance.now();
  const rows = masked.flatMap((doc) =>
    chunkDocument({ path: doc.path, text: doc.text }).map((chunk, ordinal) => ({
      ...chunk,
      headingPath: chunk.headingPath.join(' > '),
      path: doc.path,
      ordinal,
    })),
  );
  const chunk = seconds(started);
  report(`in-process: mask ${(bytes / 1e6).toFixed(1)} MB`, rate(bytes, mask));
  report(`in-process: chunk ${(bytes / 1e6).toFixed(1)} MB (first run, cold JIT)`, rate(bytes, chunk));
  const index = 'create index on floor_chunks using gin (tsv)';
  const terms = 'create table floor_terms (lexeme text primary key, chunks int)';
  const variants: Array<{ label: string; setup: string; words?: boolean; after?: string }> = [
    { label: 'rows only, no tsvector (floor)', setup: '' },
    { label: 'schema 1: + tsvector generated by to_tsvector', setup: GENERATED_TSV },
    { label: 'schema 1: + GIN index', setup: `${GENERATED_TSV}; ${index}` },
    {
      label: 'schema 1: + kb_terms (ts_stat)',
      setup: `${GENERATED_TSV}; ${index}; ${terms}`,
      after: 'insert into floor_terms select word, ndoc from ts_stat($$select tsv from floor_chunks$$)',
    },
    { label: 'schema 2 (ours): + tsvector from each word analysed once', setup: WORDS_TSV, words: true },
    { label: 'schema 2 (ours): + GIN index', setup: `${WORDS_TSV}; ${index}`, words: true },
  ];
  const floor = new Map<string, number[]>();
  for (let round = 0; round < ROUNDS; round++) {
    for (const variant of variants) {
      const store = await openPgliteStore({ dataDir: join(work, 'floor', 'store') });
      try {
        await store.exec(`create table floor_chunks (id bigserial primary key, path text, ordinal int, title text,
        heading_path text, start_line int, end_line int, content text); ${variant.setup}`);
        started = performance.now();
        await store.transaction(async (tx) => {
          const tsvectors: string[] = [];
          if (variant.words) {
            const cache = new LexemeCache(postgresWordAnalyser(tx));
            await cache.analyse(rows, (_index, terms) => tsvectors.push(cache.tsvector(terms)));
          }
          for (let start = 0; start < rows.length; start += INSERT_BATCH) {
            const columns = chunkColumns(rows.slice(start, start + INSERT_BATCH));
            if (variant.words) {
              await tx.query(
                `insert into floor_chunks (path, ordinal, title, heading_path, start_line, end_line, content, tsv)
                 select p, o, t, h, s, e, c, v::tsvector
                 from unnest($1::text[], $2::int[], $3::text[], $4::text[], $5::int[], $6::int[], $7::text[], $8::text[])
                   as x(p, o, t, h, s, e, c, v)`,
                [...columns, tsvectors.slice(start, start + INSERT_BATCH)],
              );
            } else {
              await tx.query(
                `insert into floor_chunks (path, ordinal, title, heading_path, start_line, end_line, content)
                 select * from unnest($1::text[], $2::int[], $3::text[], $4::text[], $5::int[], $6::int[], $7::text[])`,
                columns,
              );
            }
          }
          if (variant.after) await tx.query(variant.after);
        });
        floor.set(variant.label, [...(floor.get(variant.label) ?? []), seconds(started)]);
      } finally {
        await store.close();
        rmSync(join(work, 'floor'), { recursive: true, force: true });
      }
    }
  }
  for (const [label, times] of floor) report(`pglite write: ${label}`, rate(bytes, median(times)));
}

/** kb_chunks' tsv column as schema 1 computed it (a generated column); the baseline's tsvector. */
const GENERATED_TSV = `alter table floor_chunks add column tsv tsvector generated always as (
  setweight(to_tsvector('english', title), 'A') || setweight(to_tsvector('english', heading_path), 'B') ||
  setweight(to_tsvector('english', content), 'D')) stored`;
/** Schema 2's: written by ingest (src/knowledge/chunk-lexemes.ts). */
const WORDS_TSV = 'alter table floor_chunks add column tsv tsvector not null';

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
    const embedded = knowledgeLocation({ home: join(work, 'small') });
    const postgres: KnowledgeLocation | undefined = database
      ? {
          kind: 'postgres',
          url: `postgres://${database.user}:${database.password}@${database.host}:${database.port}/${database.database}`,
        }
      : undefined;
    if (!postgres) console.log(`postgres: skipped (${postgresMissing})`);
    // Each corpus in a store of its own, so that one's term statistics do not weigh on the other's.
    if (ONLY === 'soak') {
      if (postgres) await soak(work, postgres);
      else console.log(`soak: skipped (${postgresMissing})`);
      return;
    }
    if (ONLY === 'floor') {
      await writeFloor(work);
      return;
    }
    for (const name of ONLY === 'ingest' ? [] : RECALL_CORPORA) {
      const dir = corpusDir(name);
      const questions = questionsOf(dir);
      const docs = readdirSync(join(dir, 'docs')).length;
      const suffix = name === 'runbooks' ? '' : `, ${name}`;
      console.log(`recall corpus ${name}: ${docs} runbooks, ${questions.length} questions`);
      const location: KnowledgeLocation =
        name === 'runbooks' ? embedded : knowledgeLocation({ home: join(work, `small-${name}`) });
      await ingest({
        location,
        target: join(dir, 'docs'),
        home: join(work, `small-${name}`),
        masking: {},
        name,
      });
      await recall(location, `embedded${suffix}`, questions);
      if (postgres) {
        await ingest({
          location: postgres,
          target: join(dir, 'docs'),
          home: join(work, 'small'),
          masking: {},
          name,
        });
        await recall(postgres, `postgres${suffix}`, questions);
        await withKnowledgeBase(postgres, (knowledge) => knowledge.forget(name));
      }
    }
    if (ONLY === 'recall') return;
    if (ONLY === 'ingest' || !RECALL_CORPORA.includes('runbooks'))
      await ingest({
        location: embedded,
        target: join(CORPUS, 'docs'),
        home: join(work, 'small'),
        masking: {},
        name: 'runbooks',
      });

    await throughput(work, postgres);
    await throughputOfLargerRunbooks(work);
    if (ONLY === 'ingest') return;

    // Search latency on about TARGET_CHUNKS chunks.
    const chunksPerCopy = await withKnowledgeBase(
      embedded,
      async (knowledge) => (await knowledge.stats()).chunks,
    );
    const scaled = join(work, 'scaled');
    scaledCorpus(scaled, Math.ceil(TARGET_CHUNKS / chunksPerCopy));
    const big = knowledgeLocation({ home: join(work, 'big') });
    const chunks = (
      await ingest({ location: big, target: scaled, home: join(work, 'big'), masking: {}, name: 'scaled' })
    ).chunks;
    if (postgres)
      await ingest({
        location: postgres,
        target: scaled,
        home: join(work, 'big'),
        masking: {},
        name: 'scaled',
      });

    // Search latency on the open stores, interleaved query by query.
    const embeddedStore = await openKnowledgeBase(big);
    const postgresStore = postgres ? await openKnowledgeBase(postgres) : undefined;
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
