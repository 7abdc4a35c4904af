-- One row per request (shared/events.ts RequestEvent). Kafka delivers at least once, so the same
-- event_id may arrive twice: ReplacingMergeTree collapses rows with equal sorting keys on merge, and
-- queries that must not double count read with FINAL. A retried insert batch with the same
-- insert_deduplication_token is dropped at insert time (non_replicated_deduplication_window).
CREATE TABLE IF NOT EXISTS {db:Identifier}.events
(
    event_id          UUID,
    ts                DateTime64(3, 'UTC'),
    request_id        String,
    tenant            LowCardinality(String),
    user_id           String,
    route             LowCardinality(String),
    tier              LowCardinality(String),
    model             LowCardinality(String),
    model_version     LowCardinality(String),
    provider          LowCardinality(String),
    status            UInt16,
    cache             LowCardinality(String),
    fallback_reason   LowCardinality(String),
    queue_ms          Float32,
    ttft_ms           Float32,
    latency_ms        Float32,
    prompt_tokens     UInt32,
    completion_tokens UInt32
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(ts)
ORDER BY (tenant, user_id, ts, event_id)
TTL toDateTime(ts) + INTERVAL 90 DAY
SETTINGS non_replicated_deduplication_window = 1000;
