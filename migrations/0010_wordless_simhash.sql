-- Wordless memories ("🦄", "!!!") were fingerprinted 0 (SimHash of no features), so each was a distance-0
-- "duplicate" of every other. New ones get an exact hash of their text (memories/simhash.py); the old
-- zeros cannot be recomputed in SQL, so they leave the near-duplicate check instead of matching each other.
UPDATE memories SET simhash = NULL WHERE simhash = 0;
