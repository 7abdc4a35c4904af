-- Spend per tenant, key, model version and UTC day, filled at insert time by a materialized view over
-- `events` (read with sum(); workers/spend/query.ts). Like the request_stats views, a retried batch with
-- the same insert_deduplication_token is dropped here too, but an event_id redelivered in another batch
-- is counted twice; exact figures come from `events FINAL`.
CREATE TABLE IF NOT EXISTS {db:Identifier}.spend_daily
(
    tenant            LowCardinality(String),
    key_id            LowCardinality(String),
    tier              LowCardinality(String),
    model             LowCardinality(String),
    model_version     LowCardinality(String),
    day               Date,
    requests          SimpleAggregateFunction(sum, UInt64),
    prompt_tokens     SimpleAggregateFunction(sum, UInt64),
    completion_tokens SimpleAggregateFunction(sum, UInt64),
    cached_tokens     SimpleAggregateFunction(sum, UInt64),
    cost_usd          SimpleAggregateFunction(sum, Float64)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(day)
ORDER BY (tenant, key_id, day, tier, model, model_version)
TTL day + INTERVAL 400 DAY
SETTINGS non_replicated_deduplication_window = 1000;

CREATE MATERIALIZED VIEW IF NOT EXISTS {db:Identifier}.spend_daily_mv
TO {db:Identifier}.spend_daily
AS SELECT
    tenant,
    key_id,
    tier,
    model,
    model_version,
    toDate(ts, 'UTC') AS day,
    count() AS requests,
    sum(toUInt64(prompt_tokens)) AS prompt_tokens,
    sum(toUInt64(completion_tokens)) AS completion_tokens,
    sum(toUInt64(cached_tokens)) AS cached_tokens,
    sum(cost_usd) AS cost_usd
FROM {db:Identifier}.events
GROUP BY tenant, key_id, tier, model, model_version, day;
