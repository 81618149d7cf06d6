-- The chat proxy's retrieval logs, working-memory sessions (messages, core memory) and the scratchpad.
-- Ids are AUTOINCREMENT: never reused (migration 0018).
CREATE TABLE retrieval_logs (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id         INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    origin          TEXT NOT NULL DEFAULT 'proxy',      -- proxy | session
    conversation_id TEXT,
    query           TEXT NOT NULL DEFAULT '',
    memories        TEXT NOT NULL DEFAULT '[]',         -- [{id, score, kind, channels, tokens}]
    tokens_injected INTEGER NOT NULL DEFAULT 0,
    injected        INTEGER NOT NULL DEFAULT 1,
    provider        TEXT,
    model           TEXT,
    status          INTEGER,                            -- the provider's HTTP status (NULL: no answer)
    error           TEXT,
    timings         TEXT NOT NULL DEFAULT '{}',
    created_at      TEXT NOT NULL
);
CREATE INDEX idx_retrieval_logs_user ON retrieval_logs(user_id, id);
CREATE INDEX idx_retrieval_logs_created ON retrieval_logs(created_at);

CREATE TABLE sessions (
    id          TEXT PRIMARY KEY,                       -- uuid
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    agent       TEXT NOT NULL,
    status      TEXT NOT NULL DEFAULT 'active',
    core_memory TEXT NOT NULL DEFAULT '[]',             -- pinned facts: [str]
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX idx_sessions_user ON sessions(user_id, created_at);

CREATE TABLE session_messages (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    session_id  TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    client_id   TEXT NOT NULL,                          -- the client's message id: a retried post is a no-op
    role        TEXT NOT NULL,
    content     TEXT NOT NULL,
    archived    INTEGER NOT NULL DEFAULT 0,             -- 1: past the short-term window, extracted
    created_at  TEXT NOT NULL,
    UNIQUE (user_id, session_id, client_id)
);
CREATE INDEX idx_session_messages ON session_messages(user_id, session_id, archived, id);

CREATE TABLE scratch (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    session     TEXT NOT NULL,
    agent       TEXT NOT NULL DEFAULT 'unknown',
    model       TEXT NOT NULL DEFAULT '',
    key         TEXT NOT NULL,
    value       TEXT NOT NULL DEFAULT '',
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    UNIQUE (user_id, session, key)
);
CREATE INDEX idx_scratch_expires ON scratch(expires_at);
