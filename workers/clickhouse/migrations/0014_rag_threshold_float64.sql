-- Collection thresholds are kept as the number the user set. As Float32, 0.45 was stored as
-- 0.44999998807907104 and shown that way wherever it was read as Float64.
ALTER TABLE {db:Identifier}.rag_collections MODIFY COLUMN threshold Float64 DEFAULT 0.45;

-- Values written as Float32 widen exactly (0.45 becomes 0.44999998807907104); Float32 holds about 7
-- significant digits, so rounding to 6 decimals gives back the number that was set. Idempotent.
ALTER TABLE {db:Identifier}.rag_collections
    UPDATE threshold = round(threshold, 6) WHERE threshold != round(threshold, 6)
    SETTINGS mutations_sync = 2;
