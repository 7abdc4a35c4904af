-- One row per drift alert raised by the drift job (issue 8): every automatic rollback, and every
-- rollback the job wanted but could not make (pinned tier, no previous version).
CREATE TABLE IF NOT EXISTS {db:Identifier}.drift_alerts
(
    ts            DateTime64(3, 'UTC'),
    tier          LowCardinality(String),
    model_version LowCardinality(String),
    action        LowCardinality(String),
    to_version    String,
    score         Float64,
    reason        String,
    components    Map(String, Float64)
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(ts)
ORDER BY (tier, ts)
TTL toDateTime(ts) + INTERVAL 400 DAY;
