-- Cost per tenant, tier, model and minute (the dashboard's cost chart), filled by a materialized view
-- over `events` at insert time; same duplicate caveats as the other rollups.
CREATE TABLE IF NOT EXISTS {db:Identifier}.spend_1m
(
    tenant   LowCardinality(String),
    tier     LowCardinality(String),
    model    LowCardinality(String),
    bucket   DateTime('UTC'),
    cost_usd SimpleAggregateFunction(sum, Float64)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(bucket)
ORDER BY (tenant, tier, model, bucket)
TTL bucket + INTERVAL 90 DAY
SETTINGS non_replicated_deduplication_window = 1000;

CREATE MATERIALIZED VIEW IF NOT EXISTS {db:Identifier}.spend_1m_mv
TO {db:Identifier}.spend_1m
AS SELECT
    tenant,
    tier,
    model,
    toStartOfMinute(toDateTime(ts, 'UTC')) AS bucket,
    sum(cost_usd) AS cost_usd
FROM {db:Identifier}.events
GROUP BY tenant, tier, model, bucket;
