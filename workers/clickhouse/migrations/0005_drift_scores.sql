-- Drift score per tier and model version, written by the drift job (one row per evaluation); the
-- dashboard and the drift_score{tier} gauge read the latest. Empty until that job exists.
CREATE TABLE IF NOT EXISTS {db:Identifier}.drift_scores
(
    ts            DateTime64(3, 'UTC'),
    tier          LowCardinality(String),
    model_version LowCardinality(String),
    score         Float64,
    components    Map(String, Float64)
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(ts)
ORDER BY (tier, model_version, ts)
TTL toDateTime(ts) + INTERVAL 400 DAY;
