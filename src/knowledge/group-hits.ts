import type { KnowledgeHit } from './knowledge-base.js';

/** One document of a search, with its chunks that matched, best first. */
export interface DocumentHits {
  source: string;
  path: string;
  title: string;
  /** The best chunk's score: documents are ordered by it. */
  score: number;
  hits: KnowledgeHit[];
}

/**
 * Groups ranked chunks by the document they come from: the `documents` documents whose best chunk
 * ranks highest, in that order, each with at most `chunksPerDocument` of its chunks in rank order.
 * A runbook whose title section ranks first still brings its procedure when that ranks lower, and
 * one long runbook cannot fill every place.
 */
export function groupByDocument(
  hits: readonly KnowledgeHit[],
  options: { documents: number; chunksPerDocument: number },
): DocumentHits[] {
  const groups = new Map<string, DocumentHits>();
  for (const hit of hits) {
    const key = `${hit.source}\u0000${hit.path}`;
    let group = groups.get(key);
    if (!group) {
      if (groups.size >= options.documents) continue;
      group = { source: hit.source, path: hit.path, title: hit.title, score: hit.score, hits: [] };
      groups.set(key, group);
    }
    if (group.hits.length < options.chunksPerDocument) group.hits.push(hit);
  }
  return [...groups.values()];
}
