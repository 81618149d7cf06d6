-- The user's preferences (key -> JSON value: language, tone, units ... that /prompt and /pack hand to a model)
-- and each agent's resumable state (key -> JSON value per agent: where it left off; never recalled as memory).
-- Ids are AUTOINCREMENT: never reused (migration 0018).
CREATE TABLE user_preferences (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    key        TEXT NOT NULL,
    value      TEXT NOT NULL,                           -- JSON
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (user_id, key)
);

CREATE TABLE agent_state (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    agent      TEXT NOT NULL,
    key        TEXT NOT NULL,
    value      TEXT NOT NULL,                           -- JSON
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (user_id, agent, key)
);
