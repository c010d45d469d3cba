import { errorMessage } from '../errors/opsmate-error.js';
import type { Embedder } from './embedder.js';
import { groupByDocument, type DocumentHits } from './group-hits.js';
import type { KnowledgeHit } from './knowledge-base.js';
import { withKnowledgeBase, type KnowledgeLocation } from './knowledge-location.js';

/**
 * Chunks ranked per document wanted when results are grouped by document: enough that a few long
 * runbooks matching everywhere do not crowd the others out.
 */
export const CANDIDATES_PER_DOCUMENT = 4;

/** How long a search waits for the embedding model before it goes on with full-text alone. */
export const QUERY_EMBEDDING_TIMEOUT_MS = 10_000;

export interface KnowledgeSearchResult {
  hits: KnowledgeHit[];
  /** With `perDocument`: the hits by document, best first (`hits` is them one after another). */
  documents?: DocumentHits[];
  /** `hybrid` when the query was embedded and vector search ran, else `full-text`. */
  mode: 'hybrid' | 'full-text';
  /** Why search was full-text only although a model is configured (the model failed). */
  fallback?: string;
}

/**
 * A searcher for one command or agent session. With an embedder, the query is embedded first
 * (with the store free: the model may be slow) and the search is hybrid; when the model fails,
 * the search is full-text and `onFallback` is called, once per searcher, with why.
 */
export function knowledgeSearcher(options: {
  location: KnowledgeLocation;
  embedder?: Embedder | undefined;
  onFallback?: (reason: string) => void;
}): (query: {
  query: string;
  /** Chunks; with `perDocument`, documents. */
  limit: number;
  /**
   * Group by document (see groupByDocument): the hits are then up to `limit` documents' chunks,
   * at most this many each, document after document, ranked from more candidates.
   */
  perDocument?: number;
  source?: string;
  signal?: AbortSignal;
}) => Promise<KnowledgeSearchResult> {
  let warned = false;
  return async ({ query, limit, perDocument, source, signal }) => {
    let queryEmbedding: number[] | undefined;
    let fallback: string | undefined;
    if (options.embedder) {
      try {
        const timeout = AbortSignal.timeout(QUERY_EMBEDDING_TIMEOUT_MS);
        [queryEmbedding] = await options.embedder.embed([query], {
          signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
        });
      } catch (error) {
        signal?.throwIfAborted();
        fallback = errorMessage(error);
        if (!warned) {
          warned = true;
          options.onFallback?.(fallback);
        }
      }
    }
    return await withKnowledgeBase(
      options.location,
      async (knowledge) => {
        const hybrid = queryEmbedding !== undefined && knowledge.vectorAvailable;
        const ranked = await knowledge.search({
          query,
          limit: perDocument === undefined ? limit : limit * CANDIDATES_PER_DOCUMENT,
          ...(source !== undefined ? { source } : {}),
          ...(hybrid && options.embedder ? { queryEmbedding, embeddingModel: options.embedder.model } : {}),
        });
        const mode = hybrid ? ('hybrid' as const) : ('full-text' as const);
        const found = { mode, ...(fallback ? { fallback } : {}) };
        if (perDocument === undefined) return { hits: ranked, ...found };
        const documents = groupByDocument(ranked, { documents: limit, chunksPerDocument: perDocument });
        return { hits: documents.flatMap((document) => document.hits), documents, ...found };
      },
      { ...(signal ? { signal } : {}) },
    );
  };
}

/** How a chunk is cited: `path:start-end`, as the model is told to write it. */
export function citationOf(hit: Pick<KnowledgeHit, 'path' | 'startLine' | 'endLine'>): string {
  return `${hit.path}:${hit.startLine}-${hit.endLine}`;
}

/** The location a person opens: `/abs/path/file.md:12`. */
export function openableReference(hit: Pick<KnowledgeHit, 'location' | 'startLine'>): string {
  return `${hit.location}:${hit.startLine}`;
}
