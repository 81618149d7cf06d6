-- Personality signals extracted from memories on store/update (rule-based, see
-- engram_core/intelligence/personality.py), and the synthesised profile per user.

CREATE TABLE personality_signals (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    memory_id   INTEGER NOT NULL REFERENCES memories(id) ON DELETE CASCADE,
    type        TEXT NOT NULL,
    subject     TEXT NOT NULL,
    text        TEXT NOT NULL,
    intensity   REAL NOT NULL,
    valence     REAL NOT NULL,
    created_at  TEXT NOT NULL
);
CREATE INDEX idx_personality_user_type ON personality_signals(user_id, type);
CREATE INDEX idx_personality_memory ON personality_signals(memory_id);

CREATE TABLE personality_profiles (
    user_id     INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    profile     TEXT NOT NULL,
    signals     INTEGER NOT NULL,
    updated_at  TEXT NOT NULL
);
