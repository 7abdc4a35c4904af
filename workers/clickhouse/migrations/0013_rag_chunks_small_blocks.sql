-- rag_chunks with small compressed blocks (issue 6). The hot path reads a few rows from scattered
-- 128-row granules (the HNSW neighbours, the BM25 top hits). A granule of a narrow column (ids,
-- source, metadata) is 1–2 KB, and with the default 64 KiB minimum block ClickHouse packed ~40 granules
-- into one compressed block, so reading one row decompressed all of them (~20 MB per vector query at
-- 1M chunks). With a 4 KiB minimum a block holds a few granules; the 256 KiB maximum keeps each
-- granule of embeddings (128 × 1.5 KB) in a block of its own. New parts (inserts, merges) are written
-- this way; existing parts as they merge.
ALTER TABLE {db:Identifier}.rag_chunks
    MODIFY SETTING min_compress_block_size = 4096, max_compress_block_size = 262144;
