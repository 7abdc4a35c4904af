-- The semantic cache: one row per stored answer. Lookups always filter on tenant and partition_key (the
-- sha256 of model, sampling parameters, tools and the conversation before the last user turn), which
-- lead the sorting key, so a tenant's partition is one contiguous range: small partitions are scanned
-- exactly, large ones asked through the HNSW index. `embedding` is L2-normalised MiniLM (384-d).
-- Rows leave with the answer's TTL (the TTL clause drops them at merges; reads also check expires_at).
CREATE TABLE IF NOT EXISTS {db:Identifier}.semantic_cache
(
    tenant        LowCardinality(String),
    partition_key FixedString(64),
    model_version LowCardinality(String),
    prompt        String,
    response      String,
    embedding     Array(Float32),
    created_at    DateTime64(3, 'UTC') DEFAULT now64(3),
    expires_at    DateTime64(3, 'UTC'),
    INDEX embedding_hnsw embedding TYPE vector_similarity('hnsw', 'cosineDistance', 384)
)
ENGINE = MergeTree
ORDER BY (tenant, partition_key, model_version, created_at)
TTL toDateTime(expires_at)
SETTINGS index_granularity = 256, ttl_only_drop_parts = 0, merge_with_ttl_timeout = 3600;
