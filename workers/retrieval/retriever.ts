import { GatewayError } from "../../shared/errors.ts";
import { withRetry } from "../../shared/retry.ts";
import { tracedQuestionEmbedding, tracedRetrieval, tracedSide } from "../tracing/retrieval.ts";
import { fuseRankings, type ScoredChunk } from "./fusion.ts";
import type { Embedder } from "./model-clients.ts";
import type { RetrievalStore } from "./retrieval-store.ts";
import { ScopeStatsCache } from "./scope-stats-cache.ts";
import type {
  CollectionSettings,
  ScopeStats,
  SearchScope,
  VectorSearchTuning,
  VectorStrategy,
} from "./store.ts";
import { keywordTerms } from "./text.ts";

export interface RetrieverOptions {
  defaultThreshold: number;
  /** Scopes with at most this many chunks are searched exactly (brute force); larger ones through HNSW. */
  exactSearchMaxChunks: number;
  /** Candidates taken from each side (vector, keyword) before fusion. */
  candidatesPerSide: number;
  tuning: VectorSearchTuning;
  /**
   * How long a collection's active version and its size (chunk count, mean length) are reused to start
   * the search before its settings are read (0: read first, every query). See `Retriever.retrieve`.
   */
  scopeStatsTtlMs?: number;
  retry: { attempts: number; baseDelayMs: number };
  /** Test hook: called before each retried call. */
  onRetry?: (error: unknown, attempt: number) => void;
  /** Test hook: the clock of the stats cache (default Date.now). */
  now?: () => number;
}

export interface RetrievalQuery {
  tenant: string;
  collection: string;
  question: string;
  topK: number;
  filter?: Record<string, string>;
  /** Overrides the collection's threshold. */
  threshold?: number;
  signal?: AbortSignal;
}

/** What retrieval found. `empty` means the collection has no chunks in scope, so nothing was embedded. */
export type RetrievalResult =
  | { kind: "empty"; threshold: number }
  | { kind: "ranked"; threshold: number; chunks: ScoredChunk[]; strategy: VectorStrategy };

type Searched = { chunks: ScoredChunk[]; strategy: VectorStrategy } | null;

/** Hybrid retrieval over ClickHouse: vector top-k and BM25 top-k in parallel, fused with RRF. */
export class Retriever {
  private readonly statsCache: ScopeStatsCache;

  constructor(
    private readonly store: RetrievalStore,
    private readonly embedderFor: (modelVersion: string) => Embedder,
    private readonly options: RetrieverOptions,
  ) {
    this.statsCache = new ScopeStatsCache(options.scopeStatsTtlMs ?? 0, 10_000, options.now);
  }

  private retried<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    return withRetry(fn, { ...this.options.retry, onRetry: this.options.onRetry, signal });
  }

  /**
   * Throws DependencyError("clickhouse" | "model") when a dependency fails after its retries, and
   * GatewayError COLLECTION_NOT_FOUND (404) when the tenant has no such collection.
   *
   * With the collection's version and size cached, the search (embedding included) starts at once and
   * the settings are read in the vector search's statement (or on their own when it found nothing to
   * carry them); its result is kept only if the settings name the same active version, otherwise the
   * search runs again from freshly read stats. Without a cache entry the settings and stats are read
   * first, in one query.
   */
  retrieve(query: RetrievalQuery): Promise<RetrievalResult> {
    return tracedRetrieval(query, () => this.retrieveUntraced(query));
  }

  private async retrieveUntraced(query: RetrievalQuery): Promise<RetrievalResult> {
    const { tenant, collection, signal } = query;
    const cached = this.statsCache.peek(tenant, collection);
    if (cached) {
      const speculative = await this.search(query, { ...cached, withSettings: true });
      const settings =
        speculative.settings !== undefined
          ? speculative.settings
          : await this.retried(() => this.store.collectionSettings(tenant, collection), signal);
      if (!settings) throw collectionNotFound(collection);
      const threshold = query.threshold ?? settings.threshold ?? this.options.defaultThreshold;
      if (settings.activeModelVersion === "") return { kind: "empty", threshold };
      if (settings.activeModelVersion === cached.modelVersion) return ranked(speculative.found, threshold);
    }
    const found = await this.retried(() => this.store.collectionStats(tenant, collection), signal);
    if (!found) throw collectionNotFound(collection);
    const threshold = query.threshold ?? found.settings.threshold ?? this.options.defaultThreshold;
    if (found.settings.activeModelVersion === "") return { kind: "empty", threshold };
    const version = { modelVersion: found.settings.activeModelVersion, stats: found.stats };
    this.statsCache.set(tenant, collection, version);
    const searched = await this.search(query, { ...version, withSettings: false });
    return ranked(searched.found, threshold);
  }

  /**
   * Runs both sides over the scope of `modelVersion`; `found` is null when the scope is empty. Without
   * metadata filters the BM25 ranking reads only the postings, so it runs while the question is embedded;
   * the vector search and the rows of the keyword hits (with their distances) follow the embedding.
   * With `withSettings` the vector search also reads the collection's settings (see `retrieve`).
   */
  private async search(
    query: RetrievalQuery,
    { modelVersion, stats, withSettings }: { modelVersion: string; stats: ScopeStats; withSettings: boolean },
  ): Promise<{ found: Searched; settings?: CollectionSettings | null }> {
    const { signal } = query;
    const scope: SearchScope = {
      tenant: query.tenant,
      collection: query.collection,
      modelVersion,
      filter: query.filter,
    };
    const filtered = Object.keys(query.filter ?? {}).length > 0;
    const size = filtered ? await this.retried(() => this.store.countChunks(scope), signal) : stats.chunks;
    if (size === 0) return { found: null };

    const k = Math.max(this.options.candidatesPerSide, query.topK);
    const terms = keywordTerms(query.question);
    const ranking = filtered
      ? null
      : this.retried(() => this.store.rankByPostings({ scope, terms, k, stats }), signal);
    // Awaited below, or abandoned when the embedding fails; never an unhandled rejection.
    ranking?.catch(() => undefined);
    const [vector] = await tracedQuestionEmbedding(modelVersion, () =>
      this.retried(() => this.embedderFor(modelVersion).embed([query.question], signal), signal),
    );
    if (!vector) return { found: null };
    const strategy: VectorStrategy = size <= this.options.exactSearchMaxChunks ? "exact" : "hnsw";
    const { tuning } = this.options;
    const vectorQuery = { scope, vector, k, strategy, tuning };
    const vectorSide = tracedSide(
      "vector",
      () =>
        withSettings
          ? this.retried(() => this.store.vectorSearchWithSettings(vectorQuery), signal)
          : this.retried(() => this.store.vectorSearch(vectorQuery), signal).then((hits) => ({
              hits,
              settings: undefined,
            })),
      (found) => found.hits.length,
    );
    const keywordSide = tracedSide(
      "keyword",
      () =>
        ranking
          ? ranking.then((ranked) =>
              this.retried(() => this.store.rowsOfRanked(scope, ranked, vector), signal),
            )
          : this.retried(() => this.store.keywordSearch({ scope, terms, vector, k, stats }), signal),
      (hits) => hits.length,
    );
    const [vectorHits, keywordHits] = await Promise.all([vectorSide, keywordSide]);
    return {
      found: { strategy, chunks: fuseRankings(vectorHits.hits, keywordHits) },
      settings: vectorHits.settings,
    };
  }
}

function collectionNotFound(collection: string): GatewayError {
  return new GatewayError("COLLECTION_NOT_FOUND", `The collection '${collection}' does not exist.`, {
    param: "collection",
  });
}

function ranked(found: Searched, threshold: number): RetrievalResult {
  return found ? { kind: "ranked", threshold, ...found } : { kind: "empty", threshold };
}
