/**
 * The knowledge base through the built CLI: ingest and the kb commands, several opsmate
 * processes ingesting and searching one embedded store at once, and the agent (against the fake
 * model server) searching the runbooks with KnowledgeRetrieval and citing a chunk, printed as a
 * reference the user can open.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { systemPromptOf, toolNamesOf, toolResultsOf } from '../../test-support/fake-llm/index.js';
import { fakeModelCli } from '../../test-support/cli-workspace.js';
import { startCliIsolated } from '../../test-support/run-cli.js';

const FAILOVER = `# Payments database failover

## Symptoms
Checkout returns 503; patronictl list shows no Leader for the payments cluster.

## Promote the replica
\`\`\`sh
patronictl -c /etc/patroni.yml failover payments --candidate pg-payments-2 --force
\`\`\`
Then repoint pgbouncer at the new leader. The admin token is ghp_abcdefghijklmnopqrstuvwxyz0123456789.
`;

/** A GitHub token's shape, as the masker knows it (made up). */
const LEAKED_TOKEN = 'ghp_' + 'Zq7RkL2vXw9NbT4yHc1MdF8sJp3GaE6uQo0V';

function writeRunbooks(dir: string, extra: Record<string, string> = {}): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'payments-db.md'), FAILOVER);
  writeFileSync(join(dir, 'disk.md'), '# Disk full\n\n## Fix\nRotate the nginx logs under /var/log/nginx.\n');
  for (const [name, text] of Object.entries(extra)) writeFileSync(join(dir, name), text);
}

describe('knowledge base: ingest, kb, and the agent citing runbooks', () => {
  const w = fakeModelCli('wt-kb-e2e-', { withWorkDir: true });
  const cli = (args: string[], env: Record<string, string> = {}) => w.cli(args, { env });

  it('ingest prints a summary; kb list, search, show, stats and forget read the store; bad input is one error', async () => {
    writeRunbooks(join(w.work, 'runbooks'));
    const first = await cli(['ingest', 'runbooks']);
    assert.equal(first.exitCode, 0, first.stderr);
    assert.match(
      first.stdout,
      /^ingested runbooks: 2 files \(2 new, 0 changed, 0 unchanged, 0 deleted\), 3 chunks written, 1 secrets masked in [\d.]+ s\n$/,
    );
    const again = await cli(['ingest', 'runbooks', '-o', 'json']);
    assert.equal(again.exitCode, 0, again.stderr);
    assert.equal((JSON.parse(again.stdout) as { unchanged: number }).unchanged, 2);

    const list = await cli(['kb', 'list']);
    assert.match(list.stdout, /^runbooks\s+folder\s+\S+runbooks\s+2\s+3\s/m);
    const search = await cli(['kb', 'search', 'payments', 'cluster', 'has', 'no', 'leader', '-o', 'json']);
    assert.equal(search.exitCode, 0, search.stderr);
    const found = JSON.parse(search.stdout) as {
      mode: string;
      hits: Array<{ id: number; citation: string; reference: string; content: string }>;
    };
    assert.equal(found.mode, 'full-text');
    assert.equal(found.hits[0]?.citation, 'payments-db.md:3-4');
    assert.equal(found.hits[0]?.reference, join(w.work, 'runbooks', 'payments-db.md:3'));
    const promote = found.hits.find((hit) => hit.citation === 'payments-db.md:6-10');
    assert.ok(promote, search.stdout);
    assert.ok(!promote.content.includes('ghp_abcdef'), 'the token is masked at ingest');
    const show = await cli(['kb', 'show', String(promote.id)]);
    assert.equal(show.exitCode, 0, show.stderr);
    assert.match(
      show.stdout,
      /payments-db\.md:6-10\nPayments database failover > Promote the replica \(source runbooks, chunk 2 of 2\)/,
    );
    assert.match(show.stdout, /\[REDACTED/);
    const stats = await cli(['kb', 'stats']);
    assert.match(stats.stdout, /store:\s+embedded \(SQLite\) at .*knowledge\.sqlite/);
    assert.match(stats.stdout, /vector search: off \(no embedding model configured/);

    const missing = await cli(['kb', 'show', '999999']);
    assert.equal(missing.exitCode, 2);
    assert.equal(missing.stderr.trim().split('\n').length, 2, missing.stderr);
    assert.match(missing.stderr, /^opsmate: error: no chunk 999999 in the knowledge base\nopsmate: hint: /);
    const badPath = await cli(['ingest', 'no-such-folder']);
    assert.equal(badPath.exitCode, 2);
    assert.match(badPath.stderr, /^opsmate: error: no-such-folder: no such file or folder\nopsmate: hint: /);
    const badModel = await cli(['ingest', 'runbooks', '--embedding-model', 'word2vec']);
    assert.equal(badModel.exitCode, 2);
    assert.match(badModel.stderr, /^opsmate: error: embedding model "word2vec" is not provider:model\n/);

    const forget = await cli(['kb', 'forget', 'runbooks']);
    assert.equal(forget.stdout, 'forgot runbooks\n');
    const empty = await cli(['kb', 'list', '-o', 'json']);
    assert.deepEqual(JSON.parse(empty.stdout), []);
  });

  it('several processes ingest and search one embedded store at once, and all succeed', async () => {
    for (const name of ['alpha', 'beta', 'gamma']) {
      writeRunbooks(join(w.work, name), {
        [`${name}.md`]: `# ${name} outage\n\n## Fix\nRestart the ${name} service.\n`,
      });
    }
    // A store to search from the start.
    assert.equal((await cli(['ingest', 'alpha', '--name', 'seed'])).exitCode, 0);
    const runs = await Promise.all([
      cli(['ingest', 'alpha']),
      cli(['kb', 'search', 'restart', 'service']),
      cli(['ingest', 'beta']),
      cli(['kb', 'search', 'payments', 'failover']),
      cli(['ingest', 'gamma']),
      cli(['kb', 'stats']),
    ]);
    for (const run of runs) assert.equal(run.exitCode, 0, run.stderr);
    const list = JSON.parse((await cli(['kb', 'list', '-o', 'json'])).stdout) as Array<{
      name: string;
      documents: number;
    }>;
    assert.deepEqual(
      list.map((source) => [source.name, source.documents]),
      [
        ['alpha', 3],
        ['beta', 3],
        ['gamma', 3],
        ['seed', 3],
      ],
    );
  });

  it('Ctrl-C during an ingest stops it while it writes: exit 130, nothing of it stored', async () => {
    const big = join(w.work, 'big');
    mkdirSync(big, { recursive: true });
    for (let file = 0; file < 4000; file++)
      writeFileSync(
        join(big, `page-${file}.md`),
        `# Page ${file}\n\n## One\nvalve${file}q opens.\n\n## Two\nIt closes.\n`,
      );
    const store = join(w.home, '.opsmate', 'knowledge', 'knowledge.sqlite');
    const running = startCliIsolated({
      args: ['ingest', 'big', '--name', 'interrupted'],
      cwd: w.work,
      home: w.home,
      env: { HOME: w.home, OPSMATE_HOME: join(w.home, '.opsmate') },
    });
    // The store is opened before the first file is read; the write runs from then to the commit.
    for (let wait = 0; wait < 6000 && !existsSync(`${store}-wal`); wait++)
      await new Promise((resolve) => setTimeout(resolve, 5));
    running.kill('SIGINT');
    const result = await running.done;
    assert.equal(result.exitCode, 130, result.stderr);
    assert.match(
      result.stderr,
      /^opsmate: error: ingest interrupted: nothing it had not committed was stored\nopsmate: hint: run it again/m,
    );
    assert.doesNotMatch(result.stdout, /ingested/);
    const list = JSON.parse((await cli(['kb', 'list', '-o', 'json'])).stdout) as Array<{ name: string }>;
    assert.ok(!list.some((source) => source.name === 'interrupted'), JSON.stringify(list));
  });

  it('the agent searches the runbooks, cites a chunk, and the reference is printed', async () => {
    // No knowledge base yet: the tool is not offered, nor mentioned.
    w.fake.enqueue({ text: 'Nothing to look up.' });
    const before = await cli(['run', 'hello']);
    assert.equal(before.exitCode, 0, before.stderr);
    assert.ok(!toolNamesOf(w.fake.requests[0]!).includes('KnowledgeRetrieval'));
    assert.doesNotMatch(systemPromptOf(w.fake.requests[0]!), /KnowledgeRetrieval/);
    w.fake.reset();
    // The same rule as every tool that needs something configured: list-tools says why, and
    // naming it is an error, with nothing sent to the model.
    const tools = JSON.parse((await cli(['list-tools', '-o', 'json'])).stdout) as Array<{
      name: string;
      available: boolean;
      unavailableReason?: string;
    }>;
    const knowledgeTool = tools.find((tool) => tool.name === 'KnowledgeRetrieval');
    assert.equal(knowledgeTool?.available, false);
    assert.match(knowledgeTool?.unavailableReason ?? '', /no knowledge base yet .*opsmate ingest PATH/);
    const named = await cli(['run', 'hello', '--tools', 'KnowledgeRetrieval']);
    assert.equal(named.exitCode, 2, named.stderr);
    assert.match(
      named.stderr,
      /^opsmate: error: tool KnowledgeRetrieval is not available: no knowledge base yet/,
    );
    assert.equal(w.fake.requests.length, 0);

    // A file whose name holds a token, with no heading to take its title from: the name, the
    // title and the citation reach the model masked.
    writeRunbooks(join(w.work, 'runbooks'), {
      [`webhook-${LEAKED_TOKEN}.md`]: 'Rotate the zookeeper webhook secret when zookeeper alerts fire.\n',
    });
    assert.equal((await cli(['ingest', 'runbooks'])).exitCode, 0);
    w.fake.enqueue(
      { toolCalls: [{ name: 'KnowledgeRetrieval', args: { query: 'zookeeper webhook rotate' } }] },
      { text: 'Rotate it.' },
    );
    const byName = await cli(['solve', 'zookeeper alerts fire']);
    assert.equal(byName.exitCode, 0, byName.stderr);
    const namedResult = toolResultsOf(w.fake.requests[1]!).join('\n');
    assert.match(namedResult, /Rotate the zookeeper webhook secret/);
    assert.match(namedResult, /\(webhook-\S+\.md, source runbooks\)/);
    assert.ok(!namedResult.includes(LEAKED_TOKEN.slice(4)), namedResult);
    w.fake.reset();
    w.fake.enqueue(
      {
        text: 'Looking for the team procedure.',
        toolCalls: [
          { name: 'KnowledgeRetrieval', args: { query: 'payments database failover promote replica' } },
        ],
      },
      {
        text: 'Promote pg-payments-2 with patronictl failover, then repoint pgbouncer [payments-db.md:6-10].',
      },
    );
    const run = await cli(['solve', 'the payments DB is failing over, what do we do?']);
    assert.equal(run.exitCode, 0, run.stderr);
    const [first, second] = w.fake.requests;
    assert.ok(toolNamesOf(first!).includes('KnowledgeRetrieval'));
    assert.match(systemPromptOf(first!), /cite every chunk you use by its label in brackets/);
    const result = toolResultsOf(second!).join('\n');
    // Grouped by runbook: the document, then its chunks that matched, best first.
    assert.match(
      result,
      /^\d+ documents? from the knowledge base \(full-text search\), best first, with \d+ chunks? in all\./,
    );
    assert.match(
      result,
      /\n1\. Payments database failover \(payments-db\.md, source runbooks\)\n\n\[payments-db\.md:6-10\] Payments database failover > Promote the replica\n/,
    );
    assert.match(result, /<untrusted-data id="[0-9a-f]+" source="knowledge:payments-db.md:6-10">/);
    assert.ok(!result.includes('ghp_abcdef'));
    assert.match(
      run.stdout,
      new RegExp(
        `References:\\n  \\[payments-db\\.md:6-10\\] ${join(w.work, 'runbooks', 'payments-db.md').replace(/[.]/g, '\\.')}:6  Payments database failover > Promote the replica \\(source runbooks\\)\\n`,
      ),
    );

    w.fake.reset();
    w.fake.enqueue(
      { toolCalls: [{ name: 'KnowledgeRetrieval', args: { query: 'disk full nginx logs' } }] },
      { text: 'Rotate the logs [disk.md:3-4]; also see [made-up.md:1-2].' },
    );
    const json = await cli(['solve', '-o', 'json', 'the disk is full']);
    assert.equal(json.exitCode, 0, json.stderr);
    const report = JSON.parse(json.stdout) as { references?: Array<{ citation: string; location: string }> };
    assert.deepEqual(
      report.references?.map((reference) => reference.citation),
      ['disk.md:3-4'],
    );
    assert.equal(report.references?.[0]?.location, join(w.work, 'runbooks', 'disk.md:3'));
  });
});
