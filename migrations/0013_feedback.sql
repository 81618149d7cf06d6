-- Retrieval feedback (POST /feedback): one row per rating, and the running score search multiplies by.
CREATE TABLE memory_feedback (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    memory_id   INTEGER NOT NULL REFERENCES memories(id) ON DELETE CASCADE,
    rating      TEXT NOT NULL CHECK (rating IN ('helpful', 'irrelevant', 'off-topic', 'outdated')),
    context     TEXT,
    created_at  TEXT NOT NULL
);
CREATE INDEX idx_feedback_user ON memory_feedback(user_id, rating);
CREATE INDEX idx_feedback_memory ON memory_feedback(memory_id);

-- Sum of rating deltas (helpful +1, irrelevant -1, off-topic -1, outdated -2), clamped to [-5, 5].
ALTER TABLE memories ADD COLUMN feedback_score REAL NOT NULL DEFAULT 0;
