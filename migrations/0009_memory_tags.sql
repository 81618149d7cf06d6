-- Tags as rows, kept by triggers in the same transaction as the memory: listing tags, searching by tag
-- and tag filters no longer parse every memory's JSON tag list (/tags/search on a 100k-memory user read
-- all 100k rows to find none). memories.tags stays the source of truth and the API shape.
-- Primary-key columns first: SQLite 3.40's integrity_check misreads a WITHOUT ROWID table whose
-- non-key column comes before a key column ("NULL value in memory_tags.user_id" on good rows).
CREATE TABLE memory_tags (
    memory_id INTEGER NOT NULL,
    tag       TEXT NOT NULL,
    user_id   INTEGER NOT NULL,
    PRIMARY KEY (memory_id, tag)
) WITHOUT ROWID;
CREATE INDEX idx_memory_tags_user_tag ON memory_tags(user_id, tag, memory_id);

INSERT OR IGNORE INTO memory_tags (memory_id, user_id, tag)
    SELECT m.id, m.user_id, j.value FROM memories m, json_each(m.tags) j
    WHERE json_valid(m.tags) AND j.type = 'text';

CREATE TRIGGER memory_tags_ai AFTER INSERT ON memories WHEN json_valid(new.tags) BEGIN
    INSERT OR IGNORE INTO memory_tags (memory_id, user_id, tag)
        SELECT new.id, new.user_id, j.value FROM json_each(new.tags) j WHERE j.type = 'text';
END;

CREATE TRIGGER memory_tags_au AFTER UPDATE OF tags ON memories BEGIN
    DELETE FROM memory_tags WHERE memory_id = old.id;
    INSERT OR IGNORE INTO memory_tags (memory_id, user_id, tag)
        SELECT new.id, new.user_id, j.value FROM json_each(CASE WHEN json_valid(new.tags) THEN new.tags ELSE '[]' END) j
        WHERE j.type = 'text';
END;

CREATE TRIGGER memory_tags_ad AFTER DELETE ON memories BEGIN
    DELETE FROM memory_tags WHERE memory_id = old.id;
END;
