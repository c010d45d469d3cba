import { Command, Option } from 'commander';
import type { KnowledgeBase, KnowledgeStats } from '../../knowledge/knowledge-base.js';
import type { CliContext } from '../cli-context.js';
import { addSettingOptions, readSettings } from '../field-options.js';
import { outputOption, parseOutputFormat, writeJson } from '../output-format.js';
import { renderTable } from '../render/table.js';

/** How `kb stats` names each store. */
const STORE_NAMES: Record<KnowledgeStats['store'], string> = {
  embedded: 'embedded (SQLite)',
  postgres: 'PostgreSQL',
  pglite: 'embedded (PGlite)',
};

const DEFAULT_RESULTS = 5;

/** Opens the knowledge base of the command's settings around `work`. */
async function withCommandKnowledge<T>(
  self: Command,
  context: CliContext,
  work: (knowledge: KnowledgeBase) => Promise<T>,
): Promise<T> {
  const settings = readSettings(self, context);
  const [{ homeDir }, { knowledgeLocation, withKnowledgeBase }] = await Promise.all([
    import('../../config/settings.js'),
    import('../../knowledge/knowledge-location.js'),
  ]);
  return await withKnowledgeBase(knowledgeLocation({ home: homeDir(settings), dbUrl: settings.dbUrl }), work);
}

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

function withStoreOptions(command: Command): Command {
  return addSettingOptions(command, ['dbUrl']);
}

export function kbCommand(context: CliContext): Command {
  const kb = new Command('kb').summary('look into the knowledge base: list, search, show, forget, stats');

  const list = withStoreOptions(
    new Command('list')
      .summary('list the ingested sources')
      .description(
        'List the sources in the knowledge base: name, where they came from, documents, chunks, size, last ingest.',
      )
      .addOption(outputOption()),
  );
  list.action(async (options: { output?: string }, self: Command) => {
    const format = parseOutputFormat(options.output);
    const sources = await withCommandKnowledge(self, context, (knowledge) => knowledge.sources());
    if (format === 'json') return writeJson(context.stdout, sources);
    if (sources.length === 0) {
      context.stderr.write('opsmate: the knowledge base is empty: add runbooks with `opsmate ingest PATH`\n');
      return;
    }
    context.stdout.write(
      await renderTable({
        title: 'Knowledge sources',
        head: ['Source', 'Kind', 'Origin', 'Documents', 'Chunks', 'Size', 'Ingested'],
        rows: sources.map((source) => [
          source.name,
          source.kind,
          source.origin,
          String(source.documents),
          String(source.chunks),
          formatBytes(source.bytes),
          source.updatedAt.replace('T', ' ').slice(0, 19),
        ]),
        isTerminal: Boolean(context.stdout.isTTY),
      }),
    );
  });

  const search = addSettingOptions(
    new Command('search')
      .summary('search the knowledge base as the model does')
      .description(
        'Search the knowledge base with the ranking KnowledgeRetrieval uses: full-text (BM25), fused with vector ' +
          'search when an embedding model is configured. Prints each chunk with its file:line, heading path and start.',
      )
      .argument('<query...>', 'what to look for')
      .addOption(new Option('-n, --limit <N>', `how many chunks [default: ${DEFAULT_RESULTS}]`))
      .addOption(new Option('--source <SOURCE>', 'only this source'))
      .addOption(outputOption()),
    ['dbUrl', 'embeddingModel'],
  );
  search.action(
    async (words: string[], options: { limit?: string; source?: string; output?: string }, self: Command) => {
      const format = parseOutputFormat(options.output);
      const limit = options.limit === undefined ? DEFAULT_RESULTS : Number(options.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 100) {
        const { ConfigError } = await import('../../errors/opsmate-error.js');
        throw new ConfigError(`--limit ${options.limit} is not a number from 1 to 100`, {
          hint: 'e.g. -n 10',
        });
      }
      const settings = readSettings(self, context);
      const [
        { homeDir },
        { knowledgeLocation },
        { createEmbedder },
        { knowledgeSearcher, citationOf, openableReference },
      ] = await Promise.all([
        import('../../config/settings.js'),
        import('../../knowledge/knowledge-location.js'),
        import('../../knowledge/embedder.js'),
        import('../../knowledge/search-knowledge.js'),
      ]);
      const embedder = await createEmbedder({ spec: settings.embeddingModel, env: context.config.env });
      const searcher = knowledgeSearcher({
        location: knowledgeLocation({ home: homeDir(settings), dbUrl: settings.dbUrl }),
        embedder,
        onFallback: (reason) => context.logger.warn(`${reason}: searching full-text only`),
      });
      const result = await searcher({
        query: words.join(' '),
        limit,
        ...(options.source !== undefined ? { source: options.source } : {}),
      });
      if (format === 'json') {
        return writeJson(context.stdout, {
          mode: result.mode,
          hits: result.hits.map((hit) => ({
            ...hit,
            citation: citationOf(hit),
            reference: openableReference(hit),
          })),
        });
      }
      if (result.hits.length === 0) {
        context.stderr.write(`opsmate: nothing in the knowledge base matches "${words.join(' ')}"\n`);
        return;
      }
      const lines = result.hits.flatMap((hit, index) => {
        const heading = hit.headingPath.length > 0 ? hit.headingPath.join(' > ') : hit.title;
        const preview = hit.content
          .split('\n')
          .filter((line) => line.trim() !== '' && !/^#{1,6}\s/.test(line))
          .slice(0, 2)
          .map((line) => `     ${line.length > 100 ? `${line.slice(0, 99)}…` : line}`);
        return [
          `${index + 1}. ${openableReference(hit)}-${hit.endLine}  ${heading}  (chunk ${hit.id}, source ${hit.source})`,
          ...preview,
        ];
      });
      context.stdout.write(`${lines.join('\n')}\n`);
    },
  );

  const show = withStoreOptions(
    new Command('show')
      .summary('print one chunk whole')
      .argument('<chunk>', 'a chunk id, as kb search prints it')
      .addOption(outputOption()),
  );
  show.action(async (id: string, options: { output?: string }, self: Command) => {
    const format = parseOutputFormat(options.output);
    const { ConfigError } = await import('../../errors/opsmate-error.js');
    if (!/^\d{1,15}$/.test(id)) {
      throw new ConfigError(`chunk ${JSON.stringify(id)} is not a chunk id`, {
        hint: 'chunk ids are numbers: see `opsmate kb search QUERY`',
      });
    }
    const chunk = await withCommandKnowledge(self, context, (knowledge) => knowledge.chunk(Number(id)));
    if (!chunk) {
      throw new ConfigError(`no chunk ${id} in the knowledge base`, {
        hint: 'ids change when a file is ingested again: search again with `opsmate kb search QUERY`',
      });
    }
    if (format === 'json') return writeJson(context.stdout, chunk);
    const heading = chunk.headingPath.length > 0 ? chunk.headingPath.join(' > ') : chunk.title;
    context.stdout.write(
      `${chunk.location}:${chunk.startLine}-${chunk.endLine}\n${heading} (source ${chunk.source}, chunk ${chunk.ordinal + 1} of ${chunk.documentChunks})\n\n${chunk.content}\n`,
    );
  });

  const forget = withStoreOptions(
    new Command('forget')
      .summary('remove a source and everything ingested from it')
      .argument('<source>', 'the source name, as kb list shows it'),
  );
  forget.action(async (name: string, _options: unknown, self: Command) => {
    const removed = await withCommandKnowledge(self, context, (knowledge) => knowledge.forget(name));
    if (!removed) {
      const { ConfigError } = await import('../../errors/opsmate-error.js');
      throw new ConfigError(`no source named ${JSON.stringify(name)} in the knowledge base`, {
        hint: 'see the sources with `opsmate kb list`',
      });
    }
    context.stdout.write(`forgot ${name}\n`);
  });

  const stats = addSettingOptions(
    new Command('stats')
      .summary('where the knowledge base is, how big, and whether vector search is on')
      .addOption(outputOption()),
    ['dbUrl', 'embeddingModel'],
  );
  stats.action(async (options: { output?: string }, self: Command) => {
    const format = parseOutputFormat(options.output);
    const settings = readSettings(self, context);
    const figures = await withCommandKnowledge(self, context, (knowledge) => knowledge.stats());
    const model = settings.embeddingModel?.trim() || undefined;
    const embedded = model ? (figures.embeddedChunks[model] ?? 0) : 0;
    const vectorSearch = !figures.vectorAvailable
      ? { on: false, reason: 'the server has no pgvector extension: full-text search only' }
      : !model
        ? {
            on: false,
            reason: 'no embedding model configured (OPSMATE_EMBEDDING_MODEL): full-text search only',
          }
        : { on: true, reason: `${model}: ${embedded} of ${figures.chunks} chunks embedded` };
    if (format === 'json')
      return writeJson(context.stdout, { ...figures, embeddingModel: model ?? null, vectorSearch });
    context.stdout.write(
      [
        `store:         ${STORE_NAMES[figures.store]} at ${figures.location}`,
        `sources:       ${figures.sources}`,
        `documents:     ${figures.documents} (${formatBytes(figures.bytes)})`,
        `chunks:        ${figures.chunks}`,
        `full-text:     on`,
        `vector search: ${vectorSearch.on ? 'on' : 'off'} (${vectorSearch.reason})`,
        figures.store === 'embedded'
          ? `vectors:       stored with the chunks, compared in opsmate (no extension needed)`
          : `pgvector:      ${figures.vectorAvailable ? 'available' : 'not available'}`,
      ].join('\n') + '\n',
    );
  });

  kb.addCommand(list);
  kb.addCommand(search);
  kb.addCommand(show);
  kb.addCommand(forget);
  kb.addCommand(stats);
  return kb;
}
