import type { Logger } from "../../shared/logger.ts";
import type { ClickHouse } from "../clickhouse/client.ts";
import type { WorkerEnv } from "../pool/env.ts";
import { createOpenAIEmbedder, type Embedder, embeddingVersion } from "../retrieval/model-clients.ts";
import { SemanticCache } from "./service.ts";
import { ClickHouseSemanticStore } from "./store.ts";

export type SemanticCacheConfig = Pick<
  WorkerEnv,
  | "EMBEDDINGS_BASE_URL"
  | "EMBEDDINGS_API_KEY"
  | "EMBEDDINGS_MODEL"
  | "EMBEDDINGS_MODEL_REVISION"
  | "EMBEDDINGS_DIMENSIONS"
  | "SEMANTIC_CACHE_THRESHOLD"
  | "SEMANTIC_CACHE_EXACT_MAX_ROWS"
  | "SEMANTIC_CACHE_DEADLINE_MS"
>;

/** The embeddings tier the semantic cache embeds prompts with (the stack's `tiergate-embed`, MiniLM). */
export function semanticCacheEmbedder(config: SemanticCacheConfig): Embedder {
  return createOpenAIEmbedder({
    baseURL: config.EMBEDDINGS_BASE_URL,
    apiKey: config.EMBEDDINGS_API_KEY,
    model: config.EMBEDDINGS_MODEL,
    modelVersion: embeddingVersion(config.EMBEDDINGS_MODEL, config.EMBEDDINGS_MODEL_REVISION),
    dimensions: config.EMBEDDINGS_DIMENSIONS,
    timeoutMs: config.SEMANTIC_CACHE_DEADLINE_MS,
  });
}

/** The pool's semantic cache over ClickHouse `semantic_cache` and the embeddings tier. */
export function createSemanticCache(
  config: SemanticCacheConfig,
  clickhouse: ClickHouse,
  logger: Logger,
  embedder: Embedder = semanticCacheEmbedder(config),
): SemanticCache {
  return new SemanticCache({
    store: new ClickHouseSemanticStore(clickhouse),
    embedder,
    logger,
    threshold: config.SEMANTIC_CACHE_THRESHOLD,
    exactMaxRows: config.SEMANTIC_CACHE_EXACT_MAX_ROWS,
    deadlineMs: config.SEMANTIC_CACHE_DEADLINE_MS,
  });
}
