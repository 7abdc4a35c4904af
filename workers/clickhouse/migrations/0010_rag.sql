-- RAG storage (issue 6). Everything is scoped by tenant; queries always filter on tenant and collection,
-- which lead every sorting key.

-- One row per (tenant, collection); the newest `updated_at` wins (read with FINAL).
-- `active_model_version` is the embedding version queries read; a re-embed writes a new version beside
-- it and switches this field when complete.
CREATE TABLE IF NOT EXISTS {db:Identifier}.rag_collections
(
    tenant               String,
    collection           String,
    threshold            Float32 DEFAULT 0.45,
    active_model_version String,
    updated_at           DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(updated_at)
ORDER BY (tenant, collection);

-- One row per ingested document and embedding version, written after all of its chunks are in: the
-- backfill's "done" marker (idempotency by content hash, resumability after a kill).
CREATE TABLE IF NOT EXISTS {db:Identifier}.rag_documents
(
    tenant        String,
    collection    String,
    model_version LowCardinality(String),
    document_id   String,
    source        String,
    content_hash  FixedString(64),
    metadata      Map(String, String),
    chunk_count   UInt32,
    ingested_at   DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(ingested_at)
ORDER BY (tenant, collection, model_version, document_id);

-- The chunks. `embedding` is L2-normalised MiniLM (384-d); the HNSW index serves cosine top-k, the text
-- index serves keyword candidates (lower-cased, split on non-alphanumerics).
CREATE TABLE IF NOT EXISTS {db:Identifier}.rag_chunks
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
    INDEX text_tokens text TYPE text(tokenizer = splitByNonAlpha, preprocessor = lower(text))
)
ENGINE = MergeTree
ORDER BY (tenant, collection, model_version, document_id, chunk_index)
SETTINGS non_replicated_deduplication_window = 1000;
