import { z } from "zod";
import type { ClickHouse } from "../clickhouse/client.ts";

/** One stored answer. */
export interface SemanticEntry {
  tenant: string;
  partition: string;
  modelVersion: string;
  prompt: string;
  /** The completion JSON as it was sent. */
  response: string;
  embedding: readonly number[];
  expiresAt: Date;
}

/** The nearest live entry of a partition. */
export interface SemanticNeighbour {
  prompt: string;
  response: string;
  similarity: number;
}

/** Where a partition's vectors are read: all rows, or through the HNSW index when the partition is large. */
export type SemanticSearch = "exact" | "hnsw";

/** Where semantic cache entries live; every read and write is scoped by tenant and partition. */
export interface SemanticStore {
  /** Rows of a tenant's partition (expired ones included until their merge), for the exact/HNSW choice. */
  partitionSize(tenant: string, partition: string, modelVersion: string): Promise<number>;
  /** The `k` nearest live entries, nearest first. */
  nearest(
    scope: { tenant: string; partition: string; modelVersion: string },
    query: { embedding: readonly number[]; k: number; search: SemanticSearch },
  ): Promise<SemanticNeighbour[]>;
  insert(entries: readonly SemanticEntry[]): Promise<void>;
}

const neighbourRow = z.object({ prompt: z.string(), response: z.string(), distance: z.number() });
const countRow = z.object({ n: z.number() });

/** ClickHouse DateTime64(3) text in UTC. */
function chTime(date: Date): string {
  return date.toISOString().replace("T", " ").replace("Z", "");
}

/** The SemanticStore over ClickHouse `semantic_cache` (or a table of the same shape, for benches). */
export class ClickHouseSemanticStore implements SemanticStore {
  /** `table` is a code constant (never user input). */
  constructor(
    private readonly ch: ClickHouse,
    private readonly table = "semantic_cache",
    private readonly hnswCandidates = 256,
  ) {}

  async partitionSize(tenant: string, partition: string, modelVersion: string): Promise<number> {
    const rows = await this.ch.query(
      `SELECT count() AS n FROM ${this.table}
       WHERE tenant = {tenant:String} AND partition_key = {partition:FixedString(64)}
         AND model_version = {model_version:String}`,
      { tenant, partition, model_version: modelVersion },
      countRow,
    );
    return rows[0]?.n ?? 0;
  }

  async nearest(
    scope: { tenant: string; partition: string; modelVersion: string },
    query: { embedding: readonly number[]; k: number; search: SemanticSearch },
  ): Promise<SemanticNeighbour[]> {
    const settings =
      query.search === "exact"
        ? "vector_search_filter_strategy = 'prefilter'"
        : `vector_search_filter_strategy = 'postfilter', hnsw_candidate_list_size_for_search = ${this.hnswCandidates}, vector_search_index_fetch_multiplier = 4`;
    const rows = await this.ch.query(
      `SELECT prompt, response, cosineDistance(embedding, {vector:Array(Float32)}) AS distance
       FROM ${this.table}
       WHERE tenant = {tenant:String} AND partition_key = {partition:FixedString(64)}
         AND model_version = {model_version:String} AND expires_at > now64(3)
       ORDER BY distance ASC
       LIMIT {k:UInt32}
       SETTINGS ${settings}`,
      {
        tenant: scope.tenant,
        partition: scope.partition,
        model_version: scope.modelVersion,
        vector: query.embedding,
        k: query.k,
      },
      neighbourRow,
    );
    return rows.map((r) => ({ prompt: r.prompt, response: r.response, similarity: 1 - r.distance }));
  }

  async insert(entries: readonly SemanticEntry[]): Promise<void> {
    if (entries.length === 0) return;
    await this.ch.insert(
      this.table,
      entries.map((e) => ({
        tenant: e.tenant,
        partition_key: e.partition,
        model_version: e.modelVersion,
        prompt: e.prompt,
        response: e.response,
        embedding: e.embedding,
        expires_at: chTime(e.expiresAt),
      })),
    );
  }
}
