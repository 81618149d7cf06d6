-- Engram initial schema: users, keys, spaces, memories (+ FTS5), links, jobs, audit, meta.
-- Timestamps are UTC ISO-8601 text (fixed width, so text comparison is time order).

CREATE TABLE users (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    email       TEXT,
    is_admin    INTEGER NOT NULL DEFAULT 0,
    created_at  TEXT NOT NULL
);

CREATE TABLE api_keys (
    id            INTEGER PRIMARY KEY,
    user_id       INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name          TEXT NOT NULL DEFAULT '',
    prefix        TEXT NOT NULL,
    key_hash      TEXT NOT NULL,
    scopes        TEXT NOT NULL,
    rate_limit    INTEGER,
    created_at    TEXT NOT NULL,
    expires_at    TEXT,
    revoked_at    TEXT,
    last_used_at  TEXT,
    rotated_from  INTEGER REFERENCES api_keys(id) ON DELETE SET NULL
);
CREATE INDEX idx_api_keys_prefix ON api_keys(prefix);
CREATE INDEX idx_api_keys_user ON api_keys(user_id);

CREATE TABLE spaces (
    id           INTEGER PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    description  TEXT NOT NULL DEFAULT '',
    created_at   TEXT NOT NULL,
    UNIQUE (user_id, name)
);

CREATE TABLE memories (
    id                 INTEGER PRIMARY KEY,
    user_id            INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    content            TEXT NOT NULL,
    category           TEXT NOT NULL DEFAULT 'general',
    source             TEXT NOT NULL DEFAULT 'unknown',
    importance         INTEGER NOT NULL DEFAULT 5 CHECK (importance BETWEEN 1 AND 10),
    tags               TEXT NOT NULL DEFAULT '[]',
    session_id         TEXT,
    space_id           INTEGER REFERENCES spaces(id) ON DELETE SET NULL,
    is_static          INTEGER NOT NULL DEFAULT 0,
    status             TEXT NOT NULL DEFAULT 'approved' CHECK (status IN ('approved', 'pending', 'rejected')),
    -- version chain
    version            INTEGER NOT NULL DEFAULT 1,
    parent_id          INTEGER REFERENCES memories(id) ON DELETE SET NULL,
    root_id            INTEGER,
    is_latest          INTEGER NOT NULL DEFAULT 1,
    -- flags and lifecycle
    is_forgotten       INTEGER NOT NULL DEFAULT 0,
    forgotten_at       TEXT,
    forget_reason      TEXT,
    is_archived        INTEGER NOT NULL DEFAULT 0,
    is_consolidated    INTEGER NOT NULL DEFAULT 0,
    is_fact            INTEGER NOT NULL DEFAULT 0,
    is_decomposed      INTEGER NOT NULL DEFAULT 0,
    is_deleted         INTEGER NOT NULL DEFAULT 0,
    deleted_at         TEXT,
    forget_after       TEXT,
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL,
    -- FSRS-6 state and dual strength
    fsrs_stability     REAL,
    fsrs_difficulty    REAL,
    fsrs_state         TEXT,
    fsrs_reps          INTEGER NOT NULL DEFAULT 0,
    fsrs_lapses        INTEGER NOT NULL DEFAULT 0,
    fsrs_last_review   TEXT,
    storage_strength   REAL NOT NULL DEFAULT 1.0,
    retrieval_strength REAL NOT NULL DEFAULT 1.0,
    -- usage
    access_count       INTEGER NOT NULL DEFAULT 0,
    last_accessed_at   TEXT,
    source_count       INTEGER NOT NULL DEFAULT 1,
    -- graph and affect
    pagerank           REAL NOT NULL DEFAULT 0.0,
    community          INTEGER,
    valence            REAL,
    arousal            REAL,
    -- dedup and vectors
    simhash            INTEGER,
    embedding          BLOB,
    embedding_model    TEXT
);
CREATE INDEX idx_memories_user_latest ON memories(user_id, is_latest, is_forgotten, is_deleted, created_at);
CREATE INDEX idx_memories_root ON memories(root_id);
CREATE INDEX idx_memories_forget_after ON memories(forget_after) WHERE forget_after IS NOT NULL;
CREATE INDEX idx_memories_user_simhash ON memories(user_id, simhash);

CREATE VIRTUAL TABLE memories_fts USING fts5(
    content, tags, category,
    content='memories', content_rowid='id',
    tokenize='porter unicode61'
);

CREATE TRIGGER memories_fts_ai AFTER INSERT ON memories BEGIN
    INSERT INTO memories_fts(rowid, content, tags, category)
    VALUES (new.id, new.content, new.tags, new.category);
END;

CREATE TRIGGER memories_fts_ad AFTER DELETE ON memories BEGIN
    INSERT INTO memories_fts(memories_fts, rowid, content, tags, category)
    VALUES ('delete', old.id, old.content, old.tags, old.category);
END;

CREATE TRIGGER memories_fts_au AFTER UPDATE OF content, tags, category ON memories BEGIN
    INSERT INTO memories_fts(memories_fts, rowid, content, tags, category)
    VALUES ('delete', old.id, old.content, old.tags, old.category);
    INSERT INTO memories_fts(rowid, content, tags, category)
    VALUES (new.id, new.content, new.tags, new.category);
END;

CREATE TABLE memory_links (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    source_id   INTEGER NOT NULL REFERENCES memories(id) ON DELETE CASCADE,
    target_id   INTEGER NOT NULL REFERENCES memories(id) ON DELETE CASCADE,
    link_type   TEXT NOT NULL,
    weight      REAL NOT NULL DEFAULT 1.0,
    created_at  TEXT NOT NULL,
    UNIQUE (source_id, target_id, link_type)
);
CREATE INDEX idx_links_user ON memory_links(user_id);
CREATE INDEX idx_links_target ON memory_links(target_id);

CREATE TABLE jobs (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER REFERENCES users(id) ON DELETE CASCADE,
    kind        TEXT NOT NULL,
    payload     TEXT NOT NULL DEFAULT '{}',
    status      TEXT NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'done', 'failed')),
    attempts    INTEGER NOT NULL DEFAULT 0,
    run_after   TEXT NOT NULL,
    last_error  TEXT,
    progress    REAL NOT NULL DEFAULT 0.0,
    result      TEXT,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX idx_jobs_due ON jobs(status, run_after);

CREATE TABLE audit_log (
    id           INTEGER PRIMARY KEY,
    user_id      INTEGER,
    key_id       INTEGER,
    action       TEXT NOT NULL,
    target_type  TEXT,
    target_id    INTEGER,
    detail       TEXT NOT NULL DEFAULT '{}',
    ip           TEXT,
    created_at   TEXT NOT NULL
);
CREATE INDEX idx_audit_user ON audit_log(user_id, id);

CREATE TABLE meta (
    key    TEXT PRIMARY KEY,
    value  TEXT NOT NULL
);
