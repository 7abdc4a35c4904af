import type {
  ChunkHit,
  CollectionSettings,
  KeywordRank,
  ScopeStats,
  SearchScope,
  VectorSearchTuning,
  VectorStrategy,
} from "./store.ts";

/** A vector search: the top `k` chunks of the scope by cosine distance to `vector`. */
export interface VectorQuery {
  scope: SearchScope;
  vector: readonly number[];
  k: number;
  strategy: VectorStrategy;
  tuning: VectorSearchTuning;
}

/** A keyword search: the top `k` chunks of the scope by BM25 over `terms`, with their distance to `vector`. */
export interface KeywordQuery {
  scope: SearchScope;
  terms: readonly string[];
  vector: readonly number[];
  k: number;
  /** The scope's size: BM25's N and avgdl when ranking from the postings. */
  stats: ScopeStats;
}

/** A BM25 ranking from the postings alone: needs no vector, so it can run while the question is embedded. */
export type RankQuery = Omit<KeywordQuery, "vector">;

/**
 * What retrieval reads from the RAG tables: the collection's settings and size, and both sides of the
 * hybrid search. ClickHouseRetrievalStore (store.ts) is the implementation; tests use in-memory ones.
 * Failures are DependencyError("clickhouse", retryable).
 */
export interface RetrievalStore {
  /** The collection's settings and the size of its active version; null when the tenant has no such collection. */
  collectionStats(
    tenant: string,
    collection: string,
  ): Promise<{ settings: CollectionSettings; stats: ScopeStats } | null>;
  /** The collection's settings alone; null when the tenant has no such collection. */
  collectionSettings(tenant: string, collection: string): Promise<CollectionSettings | null>;
  /** Chunks in the scope (metadata filters applied). */
  countChunks(scope: SearchScope): Promise<number>;
  vectorSearch(query: VectorQuery): Promise<ChunkHit[]>;
  /**
   * `vectorSearch`, with the collection's settings read in the same round trip. They ride on the hits,
   * so with no hits they are `undefined` (unknown), and null when the collection does not exist.
   */
  vectorSearchWithSettings(
    query: VectorQuery,
  ): Promise<{ hits: ChunkHit[]; settings: CollectionSettings | null | undefined }>;
  /** BM25 top-k, metadata filters applied, with each hit's distance to the query vector. */
  keywordSearch(query: KeywordQuery): Promise<ChunkHit[]>;
  /** BM25 top-k chunk ids from the postings; metadata filters are not applied. */
  rankByPostings(query: RankQuery): Promise<KeywordRank[]>;
  /** The rows of ranked chunks with their distance to `vector`, in ranking order; chunks gone since are left out. */
  rowsOfRanked(
    scope: SearchScope,
    ranked: readonly KeywordRank[],
    vector: readonly number[],
  ): Promise<ChunkHit[]>;
}
