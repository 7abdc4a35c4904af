-- Payload logs: prompts and answers of keys that enable payload logging (off by default), as the pool
-- received them (after the edge's guardrail redaction). Reads always filter on tenant, which leads the
-- sorting key. Rows leave with their own retention (the TTL clause drops them at merges; reads also check
-- expires_at).
CREATE TABLE IF NOT EXISTS {db:Identifier}.payload_logs
(
    tenant      LowCardinality(String),
    ts          DateTime64(3, 'UTC') DEFAULT now64(3),
    request_id  String,
    key_id      String,
    route       LowCardinality(String),
    request     String,
    response    String,
    expires_at  DateTime64(3, 'UTC')
)
ENGINE = MergeTree
ORDER BY (tenant, ts, request_id)
TTL toDateTime(expires_at);
