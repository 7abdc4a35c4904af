-- Per-minute rollup of `events`, filled by a materialized view at insert time. Read it with the -Merge
-- combinators (workers/clickhouse/events.ts `eventsPerMinute`). No plain VIEW here: a CREATE VIEW with a
-- {db:Identifier} placeholder becomes a parameterized view instead of being substituted.
-- The view sees inserts, not merges: an event_id delivered twice in different batches is counted twice
-- here (a retried batch with the same dedup token is not). Exact counts come from `events FINAL`.
CREATE TABLE IF NOT EXISTS {db:Identifier}.events_by_minute
(
    tenant            LowCardinality(String),
    tier              LowCardinality(String),
    model             LowCardinality(String),
    minute            DateTime('UTC'),
    requests          AggregateFunction(count),
    users             AggregateFunction(uniq, String),
    latency_avg       AggregateFunction(avg, Float32),
    latency_quantiles AggregateFunction(quantilesTDigest(0.5, 0.95, 0.99), Float32),
    cache_hits        AggregateFunction(sum, UInt64),
    fallbacks         AggregateFunction(sum, UInt64)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(minute)
ORDER BY (tenant, tier, model, minute)
TTL minute + INTERVAL 90 DAY
SETTINGS non_replicated_deduplication_window = 1000;

CREATE MATERIALIZED VIEW IF NOT EXISTS {db:Identifier}.events_by_minute_mv
TO {db:Identifier}.events_by_minute
AS SELECT
    tenant,
    tier,
    model,
    toStartOfMinute(toDateTime(ts, 'UTC')) AS minute,
    countState() AS requests,
    uniqState(user_id) AS users,
    avgState(latency_ms) AS latency_avg,
    quantilesTDigestState(0.5, 0.95, 0.99)(latency_ms) AS latency_quantiles,
    sumState(toUInt64(cache = 'HIT')) AS cache_hits,
    sumState(toUInt64(fallback_reason != '')) AS fallbacks
FROM {db:Identifier}.events
GROUP BY tenant, tier, model, minute;
