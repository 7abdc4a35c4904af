-- Per-minute and per-hour rollups of `events` per tenant, tier and model, filled by materialized views
-- at insert time; read them with the -Merge combinators (workers/events/stats.ts). They supersede
-- 0002's events_by_minute (kept for its readers) with time to first token, fallbacks by reason, errors
-- and tokens. Like 0002, the views see inserts: a retried batch with the same insert_deduplication_token
-- is dropped here too (deduplicate_blocks_in_dependent_materialized_views, on by default), but an
-- event_id redelivered in another batch is counted twice. Exact counts come from `events FINAL`.
CREATE TABLE IF NOT EXISTS {db:Identifier}.request_stats_1m
(
    tenant            LowCardinality(String),
    tier              LowCardinality(String),
    model             LowCardinality(String),
    bucket            DateTime('UTC'),
    requests          AggregateFunction(count),
    users             AggregateFunction(uniq, String),
    latency_avg       AggregateFunction(avg, Float32),
    latency_quantiles AggregateFunction(quantilesTDigest(0.5, 0.95, 0.99), Float32),
    ttft_quantiles    AggregateFunction(quantilesTDigest(0.5, 0.95, 0.99), Float32),
    cache_hits        SimpleAggregateFunction(sum, UInt64),
    errors            SimpleAggregateFunction(sum, UInt64),
    fallbacks         SimpleAggregateFunction(sum, UInt64),
    fallback_reasons  AggregateFunction(sumMap, Map(String, UInt64)),
    prompt_tokens     SimpleAggregateFunction(sum, UInt64),
    completion_tokens SimpleAggregateFunction(sum, UInt64)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(bucket)
ORDER BY (tenant, tier, model, bucket)
TTL bucket + INTERVAL 90 DAY
SETTINGS non_replicated_deduplication_window = 1000;

CREATE TABLE IF NOT EXISTS {db:Identifier}.request_stats_1h
(
    tenant            LowCardinality(String),
    tier              LowCardinality(String),
    model             LowCardinality(String),
    bucket            DateTime('UTC'),
    requests          AggregateFunction(count),
    users             AggregateFunction(uniq, String),
    latency_avg       AggregateFunction(avg, Float32),
    latency_quantiles AggregateFunction(quantilesTDigest(0.5, 0.95, 0.99), Float32),
    ttft_quantiles    AggregateFunction(quantilesTDigest(0.5, 0.95, 0.99), Float32),
    cache_hits        SimpleAggregateFunction(sum, UInt64),
    errors            SimpleAggregateFunction(sum, UInt64),
    fallbacks         SimpleAggregateFunction(sum, UInt64),
    fallback_reasons  AggregateFunction(sumMap, Map(String, UInt64)),
    prompt_tokens     SimpleAggregateFunction(sum, UInt64),
    completion_tokens SimpleAggregateFunction(sum, UInt64)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(bucket)
ORDER BY (tenant, tier, model, bucket)
TTL bucket + INTERVAL 400 DAY
SETTINGS non_replicated_deduplication_window = 1000;

CREATE MATERIALIZED VIEW IF NOT EXISTS {db:Identifier}.request_stats_1m_mv
TO {db:Identifier}.request_stats_1m
AS SELECT
    tenant,
    tier,
    model,
    toStartOfMinute(toDateTime(ts, 'UTC')) AS bucket,
    countState() AS requests,
    uniqState(user_id) AS users,
    avgState(latency_ms) AS latency_avg,
    quantilesTDigestState(0.5, 0.95, 0.99)(latency_ms) AS latency_quantiles,
    quantilesTDigestState(0.5, 0.95, 0.99)(ttft_ms) AS ttft_quantiles,
    sum(toUInt64(cache = 'HIT')) AS cache_hits,
    sum(toUInt64(status >= 500)) AS errors,
    sum(toUInt64(fallback_reason != '')) AS fallbacks,
    sumMapStateIf(map(toString(fallback_reason), toUInt64(1)), fallback_reason != '') AS fallback_reasons,
    sum(toUInt64(prompt_tokens)) AS prompt_tokens,
    sum(toUInt64(completion_tokens)) AS completion_tokens
FROM {db:Identifier}.events
GROUP BY tenant, tier, model, bucket;

CREATE MATERIALIZED VIEW IF NOT EXISTS {db:Identifier}.request_stats_1h_mv
TO {db:Identifier}.request_stats_1h
AS SELECT
    tenant,
    tier,
    model,
    toStartOfHour(toDateTime(ts, 'UTC')) AS bucket,
    countState() AS requests,
    uniqState(user_id) AS users,
    avgState(latency_ms) AS latency_avg,
    quantilesTDigestState(0.5, 0.95, 0.99)(latency_ms) AS latency_quantiles,
    quantilesTDigestState(0.5, 0.95, 0.99)(ttft_ms) AS ttft_quantiles,
    sum(toUInt64(cache = 'HIT')) AS cache_hits,
    sum(toUInt64(status >= 500)) AS errors,
    sum(toUInt64(fallback_reason != '')) AS fallbacks,
    sumMapStateIf(map(toString(fallback_reason), toUInt64(1)), fallback_reason != '') AS fallback_reasons,
    sum(toUInt64(prompt_tokens)) AS prompt_tokens,
    sum(toUInt64(completion_tokens)) AS completion_tokens
FROM {db:Identifier}.events
GROUP BY tenant, tier, model, bucket;
