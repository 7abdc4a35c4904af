-- The API key of each request, for usage and spend per key (the admin API's usage queries). Empty for
-- events recorded before this column existed or without a verified key.
ALTER TABLE {db:Identifier}.events ADD COLUMN IF NOT EXISTS key_id LowCardinality(String) DEFAULT '';
