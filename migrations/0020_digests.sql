-- Digests: summaries of a period's memories and activity (generated on demand or on a schedule).
CREATE TABLE digests (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    period       TEXT NOT NULL,
    content      TEXT NOT NULL,
    memory_count INTEGER NOT NULL DEFAULT 0,
    stats        TEXT NOT NULL DEFAULT '{}',
    started_at   TEXT NOT NULL,
    ended_at     TEXT NOT NULL,
    created_at   TEXT NOT NULL
);
CREATE INDEX idx_digests_user ON digests(user_id, id);
