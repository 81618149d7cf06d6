-- Near-duplicate lookup by SimHash bands: the 64-bit fingerprint split into four 16-bit bands. Two
-- fingerprints within Hamming distance 3 agree on at least one band (3 differing bits touch at most 3 of
-- 4 bands), so the candidates of a store are the memories sharing any band: four index probes instead of
-- a scan, over all of the user's memories.

ALTER TABLE memories ADD COLUMN simhash_b0 INTEGER GENERATED ALWAYS AS (simhash & 65535) VIRTUAL;
ALTER TABLE memories ADD COLUMN simhash_b1 INTEGER GENERATED ALWAYS AS ((simhash >> 16) & 65535) VIRTUAL;
ALTER TABLE memories ADD COLUMN simhash_b2 INTEGER GENERATED ALWAYS AS ((simhash >> 32) & 65535) VIRTUAL;
ALTER TABLE memories ADD COLUMN simhash_b3 INTEGER GENERATED ALWAYS AS ((simhash >> 48) & 65535) VIRTUAL;

CREATE INDEX idx_memories_simhash_b0 ON memories(user_id, simhash_b0) WHERE simhash IS NOT NULL;
CREATE INDEX idx_memories_simhash_b1 ON memories(user_id, simhash_b1) WHERE simhash IS NOT NULL;
CREATE INDEX idx_memories_simhash_b2 ON memories(user_id, simhash_b2) WHERE simhash IS NOT NULL;
CREATE INDEX idx_memories_simhash_b3 ON memories(user_id, simhash_b3) WHERE simhash IS NOT NULL;
