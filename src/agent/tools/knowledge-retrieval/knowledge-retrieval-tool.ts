import { z } from 'zod';
import { errorMessage } from '../../../errors/opsmate-error.js';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { knowledgeBaseExists, knowledgeLocation } from '../../../knowledge/knowledge-location.js';
import { groupByDocument } from '../../../knowledge/group-hits.js';
import { citationOf } from '../../../knowledge/search-knowledge.js';
import { defineTool, truncateText } from '../tool-contract.js';
import { wrapUntrusted } from '../untrusted-text.js';
import { descriptionFile } from '../description-file.js';

const DEFAULT_RESULTS = 5;
const MAX_RESULTS = 10;
/** Chunks shown of one document: its best match, and the procedure when another section ranked. */
const CHUNKS_PER_DOCUMENT = 3;

export const knowledgeRetrievalTool = defineTool({
  name: 'KnowledgeRetrieval',
  summary:
    "Searches the team's runbooks and docs (opsmate ingest) and returns the best documents, with their chunks to cite",
  description: descriptionFile(new URL('./knowledge-retrieval.md', import.meta.url)),
  // It reads opsmate's own knowledge base, never the target.
  usesTarget: false,
  // Offered only when there is a knowledge base (opsmate's home, or OPSMATE_DB_URL): the same
  // rule as every tool that needs something configured, so list-tools says why it is missing.
  unavailable: (env) => {
    const home = env.OPSMATE_HOME?.trim() || join(homedir(), '.opsmate');
    const location = knowledgeLocation({ home, dbUrl: env.OPSMATE_DB_URL });
    return knowledgeBaseExists(location)
      ? undefined
      : `no knowledge base yet in ${home}: fill one with opsmate ingest PATH (or set OPSMATE_DB_URL)`;
  },
  readOnly: true,
  inputSchema: z.object({
    query: z.string().min(1).describe('What to look for, in plain words: symptom, service, action'),
    limit: z
      .number()
      .int()
      .min(1)
      .max(MAX_RESULTS)
      .default(DEFAULT_RESULTS)
      .describe(
        `How many documents to return (default ${DEFAULT_RESULTS}), each with up to ${CHUNKS_PER_DOCUMENT} of its best chunks`,
      ),
    source: z.string().optional().describe('Only this source (as `opsmate kb list` names it)'),
  }),
  title: (input) => `knowledge: ${input.query}`,
  async execute(input, context, options) {
    const knowledge = context.knowledge;
    if (!knowledge) {
      const text =
        'There is no knowledge base in this session (the operator fills one with `opsmate ingest PATH`).';
      return { llmContent: text, display: { kind: 'text', text }, isError: true };
    }
    let result;
    try {
      result = await knowledge.search({
        query: input.query,
        limit: input.limit,
        perDocument: CHUNKS_PER_DOCUMENT,
        ...(input.source !== undefined ? { source: input.source } : {}),
        signal: options.signal,
      });
    } catch (error) {
      const text = `The knowledge base could not be searched: ${errorMessage(error)}`;
      return { llmContent: text, display: { kind: 'text', text }, isError: true };
    }
    // Grouped by the search; a searcher that did not group gives one document per hit's file.
    const documents =
      result.documents ??
      groupByDocument(result.hits, { documents: input.limit, chunksPerDocument: CHUNKS_PER_DOCUMENT });
    if (documents.length === 0) {
      const text = `Nothing in the knowledge base matches "${input.query}".`;
      return { llmContent: text, display: { kind: 'text', text } };
    }
    const shown = documents.reduce((count, document) => count + document.hits.length, 0);
    const perChunk = Math.max(500, Math.floor((context.maxOutputLength - 500) / shown));
    // Chunks were masked at ingest, but a file name, a title taken from it, or a store another
    // process filled (a team's PostgreSQL, an older opsmate) may still hold a secret: every text
    // of the store is masked again on its way to the model, field by field, so the untrusted-data
    // markers around it are never touched.
    const mask = (text: string): string => (context.redactor ? context.redactor.redact(text).text : text);
    const sections = documents.map((document, index) => {
      const chunks = document.hits.map((hit) => {
        const heading = hit.headingPath.length > 0 ? hit.headingPath.join(' > ') : hit.title;
        const citation = mask(citationOf(hit));
        return [
          `[${citation}] ${mask(heading)}`,
          wrapUntrusted(`knowledge:${citation}`, mask(truncateText(hit.content, perChunk))),
        ].join('\n');
      });
      return [
        `${index + 1}. ${mask(document.title)} (${mask(document.path)}, source ${mask(document.source)})`,
        ...chunks,
      ].join('\n\n');
    });
    const header =
      `${plural(documents.length, 'document')} from the knowledge base (${result.mode} search), best first, ` +
      `with ${plural(shown, 'chunk')} in all. Cite the chunks you use by their label in brackets.`;
    const display = documents
      .flatMap((document) =>
        document.hits.map((hit) => `${citationOf(hit)}  ${hit.headingPath.join(' > ') || hit.title}`),
      )
      .join('\n');
    return { llmContent: [header, '', ...sections].join('\n\n'), display: { kind: 'text', text: display } };
  },
});

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}
