-- Guardrails and input contracts of each request: which guardrails ran, what they found as
-- `guardrail:kind:mode` -> count (never the matched text), the outcome, and the contract rule broken.
ALTER TABLE {db:Identifier}.events ADD COLUMN IF NOT EXISTS guardrails Array(LowCardinality(String)) DEFAULT [];
ALTER TABLE {db:Identifier}.events ADD COLUMN IF NOT EXISTS guardrail_findings Map(LowCardinality(String), UInt32) DEFAULT map();
ALTER TABLE {db:Identifier}.events ADD COLUMN IF NOT EXISTS guardrail_action LowCardinality(String) DEFAULT '';
ALTER TABLE {db:Identifier}.events ADD COLUMN IF NOT EXISTS contract_violation LowCardinality(String) DEFAULT '';
