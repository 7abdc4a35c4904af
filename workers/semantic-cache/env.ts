import { z } from "zod";

/** The semantic cache's settings (part of the pool's WorkerEnv). */
export const semanticCacheEnvShape = {
  /**
   * Lowest cosine similarity (of the canonical prompts' MiniLM vectors) a semantic hit needs, in
   * [0, 1]; tuned by `npm run eval:semantic-cache`. A key can only raise it.
   */
  SEMANTIC_CACHE_THRESHOLD: z.coerce.number().min(0).max(1).default(0.9),
  /** Partitions up to this many rows are scanned exactly; larger ones are searched through HNSW. */
  SEMANTIC_CACHE_EXACT_MAX_ROWS: z.coerce.number().int().positive().default(20_000),
  /** The whole lookup (embedding + ClickHouse) gives up after this long and the request goes on uncached. */
  SEMANTIC_CACHE_DEADLINE_MS: z.coerce.number().int().positive().default(500),
  /** How long payload log rows are kept unless a key says otherwise. */
  PAYLOAD_LOG_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
};
