-- The difficulty router's view of each `auto` request: its task class, the predicted chance each level
-- (small, medium, large) answers well enough, and the tier shift per-tenant feedback learning applied.
ALTER TABLE {db:Identifier}.events ADD COLUMN IF NOT EXISTS route_class LowCardinality(String) DEFAULT '';
ALTER TABLE {db:Identifier}.events ADD COLUMN IF NOT EXISTS route_success Map(LowCardinality(String), Float32) DEFAULT map();
ALTER TABLE {db:Identifier}.events ADD COLUMN IF NOT EXISTS route_shift Int8 DEFAULT 0;
