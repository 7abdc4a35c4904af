-- rag_chunks again, with small granules (issue 6): a search reads whole granules around each row it
-- returns (HNSW neighbours, BM25 top hits), and with the default 8192-row granules (~5k rows here, as the
-- 1.5 KB embeddings hit index_granularity_bytes) a top-20 over 1M chunks read nearly every row. With 128
-- rows per granule it reads a few thousand. The projection keeps count() and sum(token_count) per scope,
-- so the hot path's scope stats (BM25's N and avgdl, the exact/HNSW choice) need no scan; lightweight
-- deletes rebuild it for the parts they touch.
-- The table is rebuilt from itself (CREATE OR REPLACE … AS SELECT, swapped atomically): running it again
-- is harmless. Rows inserted while it copies are lost, so run it with the backfill stopped; it rebuilds
-- the HNSW graphs of every part (minutes per million chunks).
CREATE OR REPLACE TABLE {db:Identifier}.rag_chunks
(
    tenant        LowCardinality(String),
    collection    LowCardinality(String),
    model_version LowCardinality(String),
    document_id   String,
    chunk_id      String,
    chunk_index   UInt32,
    source        String,
    content_hash  FixedString(64),
    text          String,
    token_count   UInt32,
    metadata      Map(String, String),
    embedding     Array(Float32),
    inserted_at   DateTime64(3, 'UTC') DEFAULT now64(3),
    INDEX embedding_hnsw embedding TYPE vector_similarity('hnsw', 'cosineDistance', 384),
    INDEX text_tokens text TYPE text(tokenizer = splitByNonAlpha, preprocessor = lower(text)),
    PROJECTION scope_stats
    (
        SELECT tenant, collection, model_version, count(), sum(token_count)
        GROUP BY tenant, collection, model_version
    )
)
ENGINE = MergeTree
ORDER BY (tenant, collection, model_version, document_id, chunk_index)
SETTINGS index_granularity = 128,
         non_replicated_deduplication_window = 1000,
         lightweight_mutation_projection_mode = 'rebuild'
AS SELECT * FROM {db:Identifier}.rag_chunks;
