-- Purge takes a memory's words out of the full-text index for good. Without FTS5 secure-delete a
-- delete only appends a tombstone and the words stay in memories_fts_data until segments happen to
-- merge (SQLite >= 3.44; Engram opens every database through sqlcipher3's bundled SQLite 3.53).
-- 'optimize' merges every segment into one now, dropping what earlier deletes left behind.
INSERT INTO memories_fts(memories_fts, rank) VALUES ('secure-delete', 1);
INSERT INTO memories_fts(memories_fts) VALUES ('optimize');
INSERT INTO messages_fts(messages_fts, rank) VALUES ('secure-delete', 1);
INSERT INTO messages_fts(messages_fts) VALUES ('optimize');
