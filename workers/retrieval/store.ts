import { z } from "zod";
import type { ClickHouse } from "../clickhouse/client.ts";
import type { KeywordQuery, RankQuery, RetrievalStore, VectorQuery } from "./retrieval-store.ts";

/**
 * Where a search looks: always one tenant's collection, one embedding version, optional equality filters
 * on the chunk's `source` or on keys of its metadata (the backfill writes `format` and `title`).
 */
export interface SearchScope {
  tenant: string;
  collection: string;
  modelVersion: string;
  filter?: Record<string, string>;
}

/** How the vector side runs: `exact` scans the scope (prefilter, brute force); `hnsw` asks the index first. */
export type VectorStrategy = "exact" | "hnsw";

export interface VectorSearchTuning {
  /** HNSW `ef_search`. */
  candidateListSize: number;
  /** Rows fetched from the index per row wanted, so post-filtering (tenant, collection, metadata) keeps k. */
  fetchMultiplier: number;
}

export const chunkHitSchema = z.object({
  chunk_id: z.string(),
  document_id: z.string(),
  source: z.string(),
  text: z.string(),
  metadata: z.record(z.string(), z.string()),
  distance: z.number(),
  keyword_score: z.number().optional(),
});
export type ChunkHit = z.infer<typeof chunkHitSchema>;

const collectionRow = z.object({ threshold: z.number(), active_model_version: z.string() });
export type CollectionSettings = { threshold: number; activeModelVersion: string };

/** Size of a scope for BM25 and the exact/HNSW choice: chunks (N) and their mean token count (avgdl). */
export interface ScopeStats {
  chunks: number;
  meanTokens: number;
}

const countRow = z.object({ n: z.number() });
const collectionStatsRow = collectionRow.extend({ chunks: z.number(), tokens: z.number() });
const keywordRankRow = z.object({
  chunk_id: z.string(),
  document_id: z.string(),
  keyword_score: z.number(),
});
/** A chunk ranked by BM25 from the postings, before its row is read. */
export type KeywordRank = z.infer<typeof keywordRankRow>;

/** Builds the WHERE clause of a scope; values only as {name:Type} parameters, names come from code. */
function scopeClause(scope: SearchScope): { sql: string; params: Record<string, unknown> } {
  const params: Record<string, unknown> = {
    tenant: scope.tenant,
    collection: scope.collection,
    model_version: scope.modelVersion,
  };
  const parts = [
    "tenant = {tenant:String}",
    "collection = {collection:String}",
    "model_version = {model_version:String}",
  ];
  Object.entries(scope.filter ?? {}).forEach(([key, value], i) => {
    params[`filter_value_${i}`] = value;
    if (key === "source") {
      // The document's source is a column of its own (the backfill's metadata holds format and title).
      parts.push(`source = {filter_value_${i}:String}`);
      return;
    }
    params[`filter_key_${i}`] = key;
    parts.push(`metadata[{filter_key_${i}:String}] = {filter_value_${i}:String}`);
  });
  return { sql: parts.join(" AND "), params };
}

const hitColumns = "chunk_id, document_id, source, text, metadata";

/** A vector hit with the collection's (rows, threshold, active version) read beside it. */
const hitWithSettingsRow = chunkHitSchema.extend({
  collection_settings: z.tuple([z.number(), z.number(), z.string()]),
});

/** The top-k vector query over a scope (`{vector}` and `{k}` still to bind); `extraColumns` from code only. */
function vectorSearchSql(
  { scope, strategy, tuning }: Pick<VectorQuery, "scope" | "strategy" | "tuning">,
  extraColumns: string,
): { sql: string; params: Record<string, unknown> } {
  const where = scopeClause(scope);
  const settings =
    strategy === "exact"
      ? "vector_search_filter_strategy = 'prefilter'"
      : `vector_search_filter_strategy = 'postfilter', hnsw_candidate_list_size_for_search = ${Math.trunc(tuning.candidateListSize)}, vector_search_index_fetch_multiplier = ${Number(tuning.fetchMultiplier)}`;
  return {
    sql: `SELECT ${hitColumns}, cosineDistance(embedding, {vector:Array(Float32)}) AS distance${extraColumns}
       FROM rag_chunks
       WHERE ${where.sql}
       ORDER BY distance ASC
       LIMIT {k:UInt32}
       SETTINGS ${settings}`,
    params: where.params,
  };
}

/** The RetrievalStore over ClickHouse: `rag_collections`, `rag_chunks` and `rag_postings` in the client's database. */
export class ClickHouseRetrievalStore implements RetrievalStore {
  constructor(private readonly ch: ClickHouse) {}

  /**
   * The collection's settings and the size of its active version in one round trip (the hot path's
   * first read); null when the tenant has no such collection. Metadata filters are not applied here.
   */
  async collectionStats(
    tenant: string,
    collection: string,
  ): Promise<{ settings: CollectionSettings; stats: ScopeStats } | null> {
    const rows = await this.ch.query(
      `SELECT c.threshold AS threshold, c.active_model_version AS active_model_version,
              toFloat64(s.chunks) AS chunks, toFloat64(s.tokens) AS tokens
       FROM (SELECT threshold, active_model_version FROM rag_collections FINAL
             WHERE tenant = {tenant:String} AND collection = {collection:String}) AS c
       LEFT JOIN (SELECT model_version, count() AS chunks, sum(token_count) AS tokens FROM rag_chunks
                  WHERE tenant = {tenant:String} AND collection = {collection:String}
                  GROUP BY model_version) AS s
       ON s.model_version = c.active_model_version`,
      { tenant, collection },
      collectionStatsRow,
    );
    const row = rows[0];
    if (!row) return null;
    return {
      settings: { threshold: row.threshold, activeModelVersion: row.active_model_version },
      stats: { chunks: row.chunks, meanTokens: row.chunks > 0 ? Math.max(1, row.tokens / row.chunks) : 1 },
    };
  }

  /** The collection's settings alone (one small table; the hot path's first read when its stats are cached). */
  async collectionSettings(tenant: string, collection: string): Promise<CollectionSettings | null> {
    const rows = await this.ch.query(
      `SELECT threshold, active_model_version FROM rag_collections FINAL
       WHERE tenant = {tenant:String} AND collection = {collection:String}`,
      { tenant, collection },
      collectionRow,
    );
    const row = rows[0];
    return row ? { threshold: row.threshold, activeModelVersion: row.active_model_version } : null;
  }

  /** Chunks in the scope (primary-key range count, cheap). */
  async countChunks(scope: SearchScope): Promise<number> {
    const where = scopeClause(scope);
    const rows = await this.ch.query(
      `SELECT count() AS n FROM rag_chunks WHERE ${where.sql}`,
      where.params,
      countRow,
    );
    return rows[0]?.n ?? 0;
  }

  /** Top-k chunks by cosine distance to `vector`. */
  async vectorSearch({ scope, vector, k, strategy, tuning }: VectorQuery): Promise<ChunkHit[]> {
    const search = vectorSearchSql({ scope, strategy, tuning }, "");
    return this.ch.query(search.sql, { ...search.params, vector, k }, chunkHitSchema);
  }

  /**
   * `vectorSearch`, with the collection's settings read in the same statement (one round trip fewer on
   * the hot path). They ride on the hits, so with no hits they are `undefined`: unknown, not absent.
   */
  async vectorSearchWithSettings({
    scope,
    vector,
    k,
    strategy,
    tuning,
  }: VectorQuery): Promise<{ hits: ChunkHit[]; settings: CollectionSettings | null | undefined }> {
    const search = vectorSearchSql(
      { scope, strategy, tuning },
      `, (SELECT (count(), any(toFloat64(threshold)), any(active_model_version)) FROM rag_collections FINAL
          WHERE tenant = {tenant:String} AND collection = {collection:String}) AS collection_settings`,
    );
    const rows = await this.ch.query(search.sql, { ...search.params, vector, k }, hitWithSettingsRow);
    const first = rows[0]?.collection_settings;
    const settings =
      first === undefined
        ? undefined
        : first[0] > 0
          ? { threshold: first[1], activeModelVersion: first[2] }
          : null;
    return { hits: rows.map(({ collection_settings: _, ...hit }) => hit), settings };
  }

  /**
   * Top-k chunks by BM25 (k1 = 1.2, b = 0.75) over the query terms, with the cosine distance to `vector`
   * so keyword-only hits get a relevance score too. Without metadata filters it reads the terms'
   * postings (`rag_postings`) and `stats` of the scope; with filters it scans the text-index candidates.
   */
  async keywordSearch(query: KeywordQuery): Promise<ChunkHit[]> {
    if (query.terms.length === 0) return [];
    if (Object.keys(query.scope.filter ?? {}).length > 0) return this.keywordSearchByScan(query);
    return this.keywordSearchByPostings(query);
  }

  /**
   * BM25 from the postings: `rankByPostings`, then `rowsOfRanked`. The retriever runs the two steps
   * itself, so the ranking (which needs no vector) overlaps the question's embedding.
   */
  async keywordSearchByPostings(query: KeywordQuery): Promise<ChunkHit[]> {
    const ranked = await this.rankByPostings(query);
    return this.rowsOfRanked(query.scope, ranked, query.vector);
  }

  /**
   * Top-k chunk ids by BM25 from the postings alone: df per term is the length of its postings list
   * (window count), N and avgdl come from `stats`. Metadata filters are not applied here.
   */
  async rankByPostings({ scope, terms, k, stats }: RankQuery): Promise<KeywordRank[]> {
    if (terms.length === 0 || stats.chunks === 0) return [];
    const where = scopeClause({ ...scope, filter: undefined });
    return this.ch.query(
      `SELECT chunk_id, any(document_id) AS document_id,
         sum(log(1 + ({n:Float64} - df + 0.5) / (df + 0.5))
             * (tf * 2.2) / (tf + 1.2 * (0.25 + 0.75 * doc_len / {avgdl:Float64}))) AS keyword_score
       FROM (SELECT chunk_id, document_id, tf, doc_len, count() OVER (PARTITION BY term) AS df
             FROM rag_postings
             WHERE ${where.sql} AND term IN {terms:Array(String)})
       GROUP BY chunk_id
       ORDER BY keyword_score DESC, chunk_id ASC
       LIMIT {k:UInt32}`,
      { ...where.params, terms, k, n: stats.chunks, avgdl: stats.meanTokens },
      keywordRankRow,
    );
  }

  /**
   * The rows of ranked chunks, read by their sorting key, with the cosine distance to `vector` (so
   * keyword-only hits get a relevance score too), in ranking order; chunks gone since are left out.
   */
  async rowsOfRanked(
    scope: SearchScope,
    ranked: readonly KeywordRank[],
    vector: readonly number[],
  ): Promise<ChunkHit[]> {
    if (ranked.length === 0) return [];
    const where = scopeClause({ ...scope, filter: undefined });
    const rows = await this.ch.query(
      `SELECT ${hitColumns}, cosineDistance(embedding, {vector:Array(Float32)}) AS distance
       FROM rag_chunks
       WHERE ${where.sql}
         AND document_id IN {documents:Array(String)}
         AND chunk_id IN {ids:Array(String)}`,
      {
        ...where.params,
        vector,
        documents: [...new Set(ranked.map((r) => r.document_id))],
        ids: ranked.map((r) => r.chunk_id),
      },
      chunkHitSchema,
    );
    const byId = new Map(rows.map((row) => [row.chunk_id, row]));
    return ranked.flatMap((r) => {
      const row = byId.get(r.chunk_id);
      return row ? [{ ...row, keyword_score: r.keyword_score }] : [];
    });
  }

  /**
   * BM25 by scanning: candidates come from the text index (`hasAnyTokens`) and are tokenized at query
   * time; document frequencies are counted among them, N and the mean length over the (filtered) scope.
   * Only the top k rows read their embedding (lazy materialization after LIMIT).
   */
  async keywordSearchByScan({ scope, terms, vector, k }: Omit<KeywordQuery, "stats">): Promise<ChunkHit[]> {
    if (terms.length === 0) return [];
    const where = scopeClause(scope);
    return this.ch.query(
      `WITH
         {terms:Array(String)} AS terms,
         (SELECT (toFloat64(count()), greatest(avg(token_count), 1)) FROM rag_chunks WHERE ${where.sql}) AS scope_stats,
         ifNull(scope_stats.1, 0) AS n,
         ifNull(scope_stats.2, 1) AS avgdl,
         (SELECT sumForEach(arrayMap(t -> toFloat64(has(tokens(lower(text)), t)), terms))
          FROM rag_chunks WHERE ${where.sql} AND hasAnyTokens(text, terms)) AS df,
         tokens(lower(text)) AS toks
       SELECT ${hitColumns},
         cosineDistance(embedding, {vector:Array(Float32)}) AS distance,
         arraySum(arrayMap((t, d) ->
             log(1 + (n - d + 0.5) / (d + 0.5))
             * (countEqual(toks, t) * 2.2)
             / (countEqual(toks, t) + 1.2 * (0.25 + 0.75 * token_count / avgdl)),
           terms, df)) AS keyword_score
       FROM rag_chunks
       WHERE ${where.sql} AND hasAnyTokens(text, terms)
       ORDER BY keyword_score DESC, chunk_id ASC
       LIMIT {k:UInt32}`,
      { ...where.params, terms, vector, k },
      chunkHitSchema,
    );
  }
}
