-- Spend per request: the API key, the cost in USD at the registry's price for the served model version
-- at the event's time, prompt tokens served from the upstream's cache, and where token counts came from.
ALTER TABLE {db:Identifier}.events ADD COLUMN IF NOT EXISTS key_id LowCardinality(String) DEFAULT '';
ALTER TABLE {db:Identifier}.events ADD COLUMN IF NOT EXISTS cost_usd Float64 DEFAULT 0;
ALTER TABLE {db:Identifier}.events ADD COLUMN IF NOT EXISTS cached_tokens UInt32 DEFAULT 0;
ALTER TABLE {db:Identifier}.events ADD COLUMN IF NOT EXISTS usage_source LowCardinality(String) DEFAULT '';
