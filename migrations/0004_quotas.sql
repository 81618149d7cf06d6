-- Per-user quota overrides. A user without a row gets ENGRAM_MEMORY_QUOTA; max_memories 0 means unlimited.
CREATE TABLE user_quotas (
    user_id      INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    max_memories INTEGER NOT NULL CHECK (max_memories >= 0),
    updated_at   TEXT NOT NULL,
    updated_by   INTEGER
);
