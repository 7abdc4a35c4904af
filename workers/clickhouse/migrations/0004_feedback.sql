-- User feedback on answers (shared/events.ts FeedbackEvent, topic tiergate.feedback, key = tenant),
-- fed by the ingest consumer. Drift jobs join it to `events` on (tenant, request_id). Delivery is at
-- least once: ReplacingMergeTree folds a redelivered feedback_id; read with FINAL for exact counts.
CREATE TABLE IF NOT EXISTS {db:Identifier}.feedback
(
    feedback_id UUID,
    ts          DateTime64(3, 'UTC'),
    request_id  String,
    tenant      LowCardinality(String),
    user_id     String,
    rating      Float32,
    label       LowCardinality(String),
    comment     String
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(ts)
ORDER BY (tenant, request_id, feedback_id)
TTL toDateTime(ts) + INTERVAL 400 DAY
SETTINGS non_replicated_deduplication_window = 1000;
