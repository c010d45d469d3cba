import type { KnowledgeAccess } from '../../agent/tools/tool-contract.js';
import { homeDir, type Settings } from '../../config/settings.js';
import type { KnowledgeHit } from '../../knowledge/knowledge-base.js';
import { knowledgeBaseExists, knowledgeLocation } from '../../knowledge/knowledge-location.js';
import { citationOf, knowledgeSearcher, openableReference } from '../../knowledge/search-knowledge.js';
import type { CliContext } from '../cli-context.js';
import type { Colors } from '../terminal/terminal-style.js';

/** The knowledge base as one agent session uses it. */
export interface SessionKnowledge {
  access: KnowledgeAccess;
  /** The chunks retrieved in this session that `answer` cites, in the order it cites them. */
  references(answer: string): KnowledgeHit[];
}

/**
 * The session's knowledge base, when there is one (see knowledgeBaseExists): searched through
 * the configured embedding model when it answers, full-text otherwise, with one warning.
 */
export async function openSessionKnowledge(options: {
  settings: Settings;
  context: CliContext;
}): Promise<SessionKnowledge | undefined> {
  const { settings, context } = options;
  const location = knowledgeLocation({ home: homeDir(settings), dbUrl: settings.dbUrl });
  if (!knowledgeBaseExists(location)) return undefined;
  const { createEmbedder } = await import('../../knowledge/embedder.js');
  const embedder = await createEmbedder({ spec: settings.embeddingModel, env: context.config.env });
  const search = knowledgeSearcher({
    location,
    embedder,
    onFallback: (reason) => context.logger.warn(`${reason}: searching the knowledge base full-text only`),
  });
  const retrieved = new Map<string, KnowledgeHit>();
  return {
    access: {
      search: async (query) => {
        const result = await search(query);
        for (const hit of result.hits) retrieved.set(citationOf(hit), hit);
        return result;
      },
    },
    references: (answer) => citedHits(answer, [...retrieved.values()]),
  };
}

/**
 * The hits `answer` cites: by their label (`path:12-40`), or by path and first line
 * (`path:12`), first cited first. A label the model made up matches nothing.
 */
export function citedHits(answer: string, hits: readonly KnowledgeHit[]): KnowledgeHit[] {
  const found: Array<{ at: number; hit: KnowledgeHit }> = [];
  for (const hit of hits) {
    const at = [citationOf(hit), `${hit.path}:${hit.startLine}`]
      .map((label) => answer.indexOf(label))
      .filter((index) => index >= 0);
    if (at.length > 0) found.push({ at: Math.min(...at), hit });
  }
  return found.sort((a, b) => a.at - b.at).map((entry) => entry.hit);
}

/** The references block printed under an answer: file:line a person can open. */
export function formatReferences(hits: readonly KnowledgeHit[], colors: Colors): string {
  if (hits.length === 0) return '';
  const lines = hits.map((hit) => {
    const heading = hit.headingPath.length > 0 ? hit.headingPath.join(' > ') : hit.title;
    return `  [${citationOf(hit)}] ${openableReference(hit)}  ${colors.dim(`${heading} (source ${hit.source})`)}`;
  });
  return `${colors.bold('References:')}\n${lines.join('\n')}\n`;
}

/** References as `-o json` reports them. */
export function referencesJson(hits: readonly KnowledgeHit[]): Array<Record<string, unknown>> {
  return hits.map((hit) => ({
    citation: citationOf(hit),
    location: openableReference(hit),
    source: hit.source,
    path: hit.path,
    startLine: hit.startLine,
    endLine: hit.endLine,
    headingPath: hit.headingPath,
    chunk: hit.id,
  }));
}
