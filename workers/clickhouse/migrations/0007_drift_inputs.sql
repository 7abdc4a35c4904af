-- Drift inputs per request (issue 8), all optional in the event: the classifier's task and confidence
-- (-1 = not classified), prompt and answer sizes in characters, the best retrieval relevance (-1 = not a
-- RAG request) and an 8-d random projection of the prompt's embedding for a sample of requests (empty
-- when not sampled).
ALTER TABLE {db:Identifier}.events ADD COLUMN IF NOT EXISTS task LowCardinality(String) DEFAULT '';
ALTER TABLE {db:Identifier}.events ADD COLUMN IF NOT EXISTS confidence Float32 DEFAULT -1;
ALTER TABLE {db:Identifier}.events ADD COLUMN IF NOT EXISTS prompt_chars UInt32 DEFAULT 0;
ALTER TABLE {db:Identifier}.events ADD COLUMN IF NOT EXISTS answer_chars UInt32 DEFAULT 0;
ALTER TABLE {db:Identifier}.events ADD COLUMN IF NOT EXISTS relevance Float32 DEFAULT -1;
ALTER TABLE {db:Identifier}.events ADD COLUMN IF NOT EXISTS prompt_projection Array(Float32) DEFAULT [];
