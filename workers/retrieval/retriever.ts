import { withRetry } from "../../shared/retry.ts";
import { fuseRankings, type ScoredChunk } from "./fusion.ts";
import type { Embedder } from "./model-clients.ts";
import { ScopeStatsCache } from "./scope-stats-cache.ts";
import type { RetrievalStore, ScopeStats, SearchScope, VectorSearchTuning } from "./store.ts";
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
  | { kind: "ranked"; threshold: number; chunks: ScoredChunk[]; strategy: "exact" | "hnsw" };

type Searched = { chunks: ScoredChunk[]; strategy: "exact" | "hnsw" } | null;

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
   * Throws DependencyError("clickhouse" | "model") when a dependency fails after its retries.
   *
   * With the collection's version and size cached, the search (embedding included) starts at once and
   * the settings are read beside it; its result is kept only if the settings name the same active
   * version, otherwise the search runs again from freshly read stats. Without a cache entry the settings
   * and stats are read first, in one query.
   */
  async retrieve(query: RetrievalQuery): Promise<RetrievalResult> {
    const { tenant, collection, signal } = query;
    const cached = this.statsCache.peek(tenant, collection);
    if (cached) {
      const speculative = this.search(query, cached.modelVersion, cached.stats);
      // Settled below, or dropped when the settings disagree; never an unhandled rejection.
      speculative.catch(() => undefined);
      const settings = await this.retried(() => this.store.collectionSettings(tenant, collection), signal);
      const threshold = query.threshold ?? settings?.threshold ?? this.options.defaultThreshold;
      if (!settings || settings.activeModelVersion === "") return { kind: "empty", threshold };
      if (settings.activeModelVersion === cached.modelVersion) {
        const searched = await speculative;
        return searched ? { kind: "ranked", threshold, ...searched } : { kind: "empty", threshold };
      }
    }
    const found = await this.retried(() => this.store.collectionStats(tenant, collection), signal);
    const threshold = query.threshold ?? found?.settings.threshold ?? this.options.defaultThreshold;
    if (!found || found.settings.activeModelVersion === "") return { kind: "empty", threshold };
    this.statsCache.set(tenant, collection, found.settings.activeModelVersion, found.stats);
    const searched = await this.search(query, found.settings.activeModelVersion, found.stats);
    return searched ? { kind: "ranked", threshold, ...searched } : { kind: "empty", threshold };
  }

  /** Embeds the question and runs both sides over the scope of `modelVersion`; null when the scope is empty. */
  private async search(query: RetrievalQuery, modelVersion: string, stats: ScopeStats): Promise<Searched> {
    const scope: SearchScope = {
      tenant: query.tenant,
      collection: query.collection,
      modelVersion,
      filter: query.filter,
    };
    const filtered = Object.keys(query.filter ?? {}).length > 0;
    const size = filtered
      ? await this.retried(() => this.store.countChunks(scope), query.signal)
      : stats.chunks;
    if (size === 0) return null;

    const [vector] = await this.retried(
      () => this.embedderFor(modelVersion).embed([query.question], query.signal),
      query.signal,
    );
    if (!vector) return null;
    const k = Math.max(this.options.candidatesPerSide, query.topK);
    const strategy = size <= this.options.exactSearchMaxChunks ? "exact" : "hnsw";
    const terms = keywordTerms(query.question);
    const [vectorHits, keywordHits] = await Promise.all([
      this.retried(
        () => this.store.vectorSearch(scope, vector, k, strategy, this.options.tuning),
        query.signal,
      ),
      this.retried(() => this.store.keywordSearch(scope, terms, vector, k, stats), query.signal),
    ]);
    return { strategy, chunks: fuseRankings(vectorHits, keywordHits) };
  }
}
