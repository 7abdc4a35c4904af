-- Inverted index for BM25 (issue 6): one row per (chunk, distinct term), so a keyword query reads only its
-- terms' postings instead of tokenizing every candidate chunk. Terms are the chunk text lower-cased and
-- split on non-alphanumerics (the `tokens` default, as keywordTerms splits questions), one-character
-- tokens dropped. `tf` is the term's count in the chunk, `doc_len` the chunk's token_count.
-- document_id (leading rag_chunks' sorting key after the scope) lets the top hits be read back by key range.
-- Filled by the materialized view on every insert into rag_chunks; deletes of chunks delete their
-- postings too (workers/backfill/document-store.ts). Small granules, so a query reads little more than
-- its terms' ranges. The deduplication window lets a batch retried with its token (dropped by
-- rag_chunks) be dropped here as well; ReplacingMergeTree collapses any other repeat.
CREATE TABLE IF NOT EXISTS {db:Identifier}.rag_postings
(
    tenant        LowCardinality(String),
    collection    LowCardinality(String),
    model_version LowCardinality(String),
    term          String,
    chunk_id      String,
    document_id   String,
    tf            UInt16,
    doc_len       UInt32
)
ENGINE = ReplacingMergeTree
ORDER BY (tenant, collection, model_version, term, chunk_id)
SETTINGS index_granularity = 256, non_replicated_deduplication_window = 1000;

CREATE MATERIALIZED VIEW IF NOT EXISTS {db:Identifier}.rag_postings_mv
TO {db:Identifier}.rag_postings
AS SELECT
    tenant,
    collection,
    model_version,
    term,
    chunk_id,
    any(document_id) AS document_id,
    toUInt16(least(count(), 65535)) AS tf,
    any(token_count) AS doc_len
FROM {db:Identifier}.rag_chunks
ARRAY JOIN tokens(lowerUTF8(text)) AS term
WHERE length(term) > 1
GROUP BY tenant, collection, model_version, term, chunk_id;

-- Chunks stored before this migration: their postings, once (chunks that already have postings are skipped).
INSERT INTO {db:Identifier}.rag_postings
SELECT
    tenant,
    collection,
    model_version,
    term,
    chunk_id,
    any(document_id) AS document_id,
    toUInt16(least(count(), 65535)) AS tf,
    any(token_count) AS doc_len
FROM {db:Identifier}.rag_chunks
ARRAY JOIN tokens(lowerUTF8(text)) AS term
WHERE length(term) > 1
  AND chunk_id NOT IN (SELECT chunk_id FROM {db:Identifier}.rag_postings)
GROUP BY tenant, collection, model_version, term, chunk_id;
