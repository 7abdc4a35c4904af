import { withRetry } from "../../shared/retry.ts";
import { fuseRankings, type ScoredChunk } from "./fusion.ts";
import type { Embedder } from "./model-clients.ts";
import type { RetrievalStore, SearchScope, VectorSearchTuning } from "./store.ts";
import { keywordTerms } from "./text.ts";

export interface RetrieverOptions {
  defaultThreshold: number;
  /** Scopes with at most this many chunks are searched exactly (brute force); larger ones through HNSW. */
  exactSearchMaxChunks: number;
  /** Candidates taken from each side (vector, keyword) before fusion. */
  candidatesPerSide: number;
  tuning: VectorSearchTuning;
  retry: { attempts: number; baseDelayMs: number };
  /** Test hook: called before each retried call. */
  onRetry?: (error: unknown, attempt: number) => void;
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

/** Hybrid retrieval over ClickHouse: vector top-k and BM25 top-k in parallel, fused with RRF. */
export class Retriever {
  constructor(
    private readonly store: RetrievalStore,
    private readonly embedderFor: (modelVersion: string) => Embedder,
    private readonly options: RetrieverOptions,
  ) {}

  private retried<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    return withRetry(fn, { ...this.options.retry, onRetry: this.options.onRetry, signal });
  }

  /** Throws DependencyError("clickhouse" | "model") when a dependency fails after its retries. */
  async retrieve(query: RetrievalQuery): Promise<RetrievalResult> {
    const found = await this.retried(
      () => this.store.collectionStats(query.tenant, query.collection),
      query.signal,
    );
    const threshold = query.threshold ?? found?.settings.threshold ?? this.options.defaultThreshold;
    if (!found || found.settings.activeModelVersion === "") return { kind: "empty", threshold };
    const scope: SearchScope = {
      tenant: query.tenant,
      collection: query.collection,
      modelVersion: found.settings.activeModelVersion,
      filter: query.filter,
    };
    const filtered = Object.keys(query.filter ?? {}).length > 0;
    const size = filtered
      ? await this.retried(() => this.store.countChunks(scope), query.signal)
      : found.stats.chunks;
    if (size === 0) return { kind: "empty", threshold };

    const [vector] = await this.retried(
      () => this.embedderFor(scope.modelVersion).embed([query.question], query.signal),
      query.signal,
    );
    if (!vector) return { kind: "empty", threshold };
    const k = Math.max(this.options.candidatesPerSide, query.topK);
    const strategy = size <= this.options.exactSearchMaxChunks ? "exact" : "hnsw";
    const terms = keywordTerms(query.question);
    const [vectorHits, keywordHits] = await Promise.all([
      this.retried(
        () => this.store.vectorSearch(scope, vector, k, strategy, this.options.tuning),
        query.signal,
      ),
      this.retried(() => this.store.keywordSearch(scope, terms, vector, k, found.stats), query.signal),
    ]);
    return { kind: "ranked", threshold, strategy, chunks: fuseRankings(vectorHits, keywordHits) };
  }
}
