-- Ids are never reused (issue 18 §3): SQLite gives a new row max(id) + 1, so purging the newest memory
-- handed its id to the next store (two memory.store audit rows for one id; a client holding the old id
-- read someone else's new memory). AUTOINCREMENT keeps the high-water mark in sqlite_sequence. SQLite
-- cannot ALTER a table to AUTOINCREMENT, so each table whose ids clients keep is rebuilt: new table with
-- the same columns and constraints, rows copied with their ids, old table dropped (with foreign keys off
-- nothing cascades and children keep pointing at the name), new table renamed, and its indexes and
-- triggers created again exactly as before. The FTS tables read memories/messages by rowid, unchanged.
-- Generated from the schema of migrations 0001-0017; the migration test compares every index and
-- trigger before and after.
PRAGMA foreign_keys = OFF;

-- users
CREATE TABLE users_new (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT NOT NULL UNIQUE,
    email       TEXT,
    is_admin    INTEGER NOT NULL DEFAULT 0,
    created_at  TEXT NOT NULL
);
INSERT INTO users_new (id, name, email, is_admin, created_at)
    SELECT id, name, email, is_admin, created_at FROM users;
DROP TABLE users;
ALTER TABLE users_new RENAME TO users;
INSERT INTO sqlite_sequence (name, seq) SELECT 'users', 0
    WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'users');
-- ids purged before this migration were written to the audit log: none of them is handed out again
UPDATE sqlite_sequence SET seq = max(seq, coalesce((SELECT max(target_id) FROM audit_log WHERE target_type = 'user'), 0))
    WHERE name = 'users';

-- api_keys
CREATE TABLE api_keys_new (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
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
INSERT INTO api_keys_new (id, user_id, name, prefix, key_hash, scopes, rate_limit, created_at, expires_at, revoked_at, last_used_at, rotated_from)
    SELECT id, user_id, name, prefix, key_hash, scopes, rate_limit, created_at, expires_at, revoked_at, last_used_at, rotated_from FROM api_keys;
DROP TABLE api_keys;
ALTER TABLE api_keys_new RENAME TO api_keys;
CREATE INDEX idx_api_keys_prefix ON api_keys(prefix);
CREATE INDEX idx_api_keys_user ON api_keys(user_id);
INSERT INTO sqlite_sequence (name, seq) SELECT 'api_keys', 0
    WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'api_keys');
-- ids purged before this migration were written to the audit log: none of them is handed out again
UPDATE sqlite_sequence SET seq = max(seq, coalesce((SELECT max(target_id) FROM audit_log WHERE target_type = 'key'), 0))
    WHERE name = 'api_keys';

-- spaces
CREATE TABLE spaces_new (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    description  TEXT NOT NULL DEFAULT '',
    created_at   TEXT NOT NULL,
    UNIQUE (user_id, name)
);
INSERT INTO spaces_new (id, user_id, name, description, created_at)
    SELECT id, user_id, name, description, created_at FROM spaces;
DROP TABLE spaces;
ALTER TABLE spaces_new RENAME TO spaces;
INSERT INTO sqlite_sequence (name, seq) SELECT 'spaces', 0
    WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'spaces');
-- ids purged before this migration were written to the audit log: none of them is handed out again
UPDATE sqlite_sequence SET seq = max(seq, coalesce((SELECT max(target_id) FROM audit_log WHERE target_type = 'space'), 0))
    WHERE name = 'spaces';

-- memories
CREATE TABLE memories_new (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
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
, simhash_b0 INTEGER GENERATED ALWAYS AS (simhash & 65535) VIRTUAL, simhash_b1 INTEGER GENERATED ALWAYS AS ((simhash >> 16) & 65535) VIRTUAL, simhash_b2 INTEGER GENERATED ALWAYS AS ((simhash >> 32) & 65535) VIRTUAL, simhash_b3 INTEGER GENERATED ALWAYS AS ((simhash >> 48) & 65535) VIRTUAL, feedback_score REAL NOT NULL DEFAULT 0);
INSERT INTO memories_new (id, user_id, content, category, source, importance, tags, session_id, space_id, is_static, status, version, parent_id, root_id, is_latest, is_forgotten, forgotten_at, forget_reason, is_archived, is_consolidated, is_fact, is_decomposed, is_deleted, deleted_at, forget_after, created_at, updated_at, fsrs_stability, fsrs_difficulty, fsrs_state, fsrs_reps, fsrs_lapses, fsrs_last_review, storage_strength, retrieval_strength, access_count, last_accessed_at, source_count, pagerank, community, valence, arousal, simhash, embedding, embedding_model, feedback_score)
    SELECT id, user_id, content, category, source, importance, tags, session_id, space_id, is_static, status, version, parent_id, root_id, is_latest, is_forgotten, forgotten_at, forget_reason, is_archived, is_consolidated, is_fact, is_decomposed, is_deleted, deleted_at, forget_after, created_at, updated_at, fsrs_stability, fsrs_difficulty, fsrs_state, fsrs_reps, fsrs_lapses, fsrs_last_review, storage_strength, retrieval_strength, access_count, last_accessed_at, source_count, pagerank, community, valence, arousal, simhash, embedding, embedding_model, feedback_score FROM memories;
DROP TABLE memories;
ALTER TABLE memories_new RENAME TO memories;
CREATE INDEX idx_memories_forget_after ON memories(forget_after) WHERE forget_after IS NOT NULL;
CREATE INDEX idx_memories_root ON memories(root_id);
CREATE INDEX idx_memories_simhash_b0 ON memories(user_id, simhash_b0) WHERE simhash IS NOT NULL;
CREATE INDEX idx_memories_simhash_b1 ON memories(user_id, simhash_b1) WHERE simhash IS NOT NULL;
CREATE INDEX idx_memories_simhash_b2 ON memories(user_id, simhash_b2) WHERE simhash IS NOT NULL;
CREATE INDEX idx_memories_simhash_b3 ON memories(user_id, simhash_b3) WHERE simhash IS NOT NULL;
CREATE INDEX idx_memories_user_community ON memories(user_id, community) WHERE community IS NOT NULL;
CREATE INDEX idx_memories_user_session ON memories(user_id, session_id, created_at, id);
CREATE INDEX idx_memories_user_simhash ON memories(user_id, simhash);
CREATE INDEX idx_memories_user_static ON memories(user_id, created_at) WHERE is_static = 1;
CREATE INDEX idx_memories_user_visible ON memories(
    user_id, is_latest, is_forgotten, is_deleted, created_at,
    is_archived, is_consolidated, status, is_static, importance, forget_after, category, source
);
CREATE TRIGGER memories_fts_ad AFTER DELETE ON memories BEGIN
    INSERT INTO memories_fts(memories_fts, rowid, content, tags, category)
    VALUES ('delete', old.id, old.content, old.tags, old.category);
END;
CREATE TRIGGER memories_fts_ai AFTER INSERT ON memories BEGIN
    INSERT INTO memories_fts(rowid, content, tags, category)
    VALUES (new.id, new.content, new.tags, new.category);
END;
CREATE TRIGGER memories_fts_au AFTER UPDATE OF content, tags, category ON memories BEGIN
    INSERT INTO memories_fts(memories_fts, rowid, content, tags, category)
    VALUES ('delete', old.id, old.content, old.tags, old.category);
    INSERT INTO memories_fts(rowid, content, tags, category)
    VALUES (new.id, new.content, new.tags, new.category);
END;
CREATE TRIGGER memory_tags_ad AFTER DELETE ON memories BEGIN
    DELETE FROM memory_tags WHERE memory_id = old.id;
END;
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
INSERT INTO sqlite_sequence (name, seq) SELECT 'memories', 0
    WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'memories');
-- ids purged before this migration were written to the audit log: none of them is handed out again
UPDATE sqlite_sequence SET seq = max(seq, coalesce((SELECT max(target_id) FROM audit_log WHERE target_type = 'memory'), 0))
    WHERE name = 'memories';

-- memory_links
CREATE TABLE memory_links_new (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    source_id   INTEGER NOT NULL REFERENCES memories(id) ON DELETE CASCADE,
    target_id   INTEGER NOT NULL REFERENCES memories(id) ON DELETE CASCADE,
    link_type   TEXT NOT NULL,
    weight      REAL NOT NULL DEFAULT 1.0,
    created_at  TEXT NOT NULL,
    UNIQUE (source_id, target_id, link_type)
);
INSERT INTO memory_links_new (id, user_id, source_id, target_id, link_type, weight, created_at)
    SELECT id, user_id, source_id, target_id, link_type, weight, created_at FROM memory_links;
DROP TABLE memory_links;
ALTER TABLE memory_links_new RENAME TO memory_links;
CREATE INDEX idx_links_source_type ON memory_links(source_id, link_type);
CREATE INDEX idx_links_target ON memory_links(target_id);
CREATE INDEX idx_links_user ON memory_links(user_id);
CREATE INDEX idx_links_user_created ON memory_links(user_id, created_at);
INSERT INTO sqlite_sequence (name, seq) SELECT 'memory_links', 0
    WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'memory_links');
-- ids purged before this migration were written to the audit log: none of them is handed out again
UPDATE sqlite_sequence SET seq = max(seq, coalesce((SELECT max(target_id) FROM audit_log WHERE target_type = 'link'), 0))
    WHERE name = 'memory_links';

-- jobs
CREATE TABLE jobs_new (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
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
INSERT INTO jobs_new (id, user_id, kind, payload, status, attempts, run_after, last_error, progress, result, created_at, updated_at)
    SELECT id, user_id, kind, payload, status, attempts, run_after, last_error, progress, result, created_at, updated_at FROM jobs;
DROP TABLE jobs;
ALTER TABLE jobs_new RENAME TO jobs;
CREATE INDEX idx_jobs_due ON jobs(status, run_after);
INSERT INTO sqlite_sequence (name, seq) SELECT 'jobs', 0
    WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'jobs');

-- audit_log
CREATE TABLE audit_log_new (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id      INTEGER,
    key_id       INTEGER,
    action       TEXT NOT NULL,
    target_type  TEXT,
    target_id    INTEGER,
    detail       TEXT NOT NULL DEFAULT '{}',
    ip           TEXT,
    created_at   TEXT NOT NULL
);
INSERT INTO audit_log_new (id, user_id, key_id, action, target_type, target_id, detail, ip, created_at)
    SELECT id, user_id, key_id, action, target_type, target_id, detail, ip, created_at FROM audit_log;
DROP TABLE audit_log;
ALTER TABLE audit_log_new RENAME TO audit_log;
CREATE INDEX idx_audit_user ON audit_log(user_id, id);
INSERT INTO sqlite_sequence (name, seq) SELECT 'audit_log', 0
    WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'audit_log');

-- entities
CREATE TABLE entities_new (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    entity_type  TEXT NOT NULL DEFAULT 'thing',
    description  TEXT NOT NULL DEFAULT '',
    aliases      TEXT NOT NULL DEFAULT '[]',
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    UNIQUE (user_id, entity_type, name COLLATE NOCASE)
);
INSERT INTO entities_new (id, user_id, name, entity_type, description, aliases, created_at, updated_at)
    SELECT id, user_id, name, entity_type, description, aliases, created_at, updated_at FROM entities;
DROP TABLE entities;
ALTER TABLE entities_new RENAME TO entities;
CREATE INDEX idx_entities_user ON entities(user_id, name COLLATE NOCASE);
INSERT INTO sqlite_sequence (name, seq) SELECT 'entities', 0
    WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'entities');
-- ids purged before this migration were written to the audit log: none of them is handed out again
UPDATE sqlite_sequence SET seq = max(seq, coalesce((SELECT max(target_id) FROM audit_log WHERE target_type = 'entity'), 0))
    WHERE name = 'entities';

-- entity_relationships
CREATE TABLE entity_relationships_new (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id       INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    source_id     INTEGER NOT NULL REFERENCES entities(id) ON DELETE CASCADE,
    target_id     INTEGER NOT NULL REFERENCES entities(id) ON DELETE CASCADE,
    relationship  TEXT NOT NULL,
    weight        REAL NOT NULL DEFAULT 1.0,
    created_at    TEXT NOT NULL,
    UNIQUE (source_id, target_id, relationship)
);
INSERT INTO entity_relationships_new (id, user_id, source_id, target_id, relationship, weight, created_at)
    SELECT id, user_id, source_id, target_id, relationship, weight, created_at FROM entity_relationships;
DROP TABLE entity_relationships;
ALTER TABLE entity_relationships_new RENAME TO entity_relationships;
CREATE INDEX idx_entity_rel_target ON entity_relationships(target_id);
INSERT INTO sqlite_sequence (name, seq) SELECT 'entity_relationships', 0
    WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'entity_relationships');
-- ids purged before this migration were written to the audit log: none of them is handed out again
UPDATE sqlite_sequence SET seq = max(seq, coalesce((SELECT max(target_id) FROM audit_log WHERE target_type = 'entity_relationship'), 0))
    WHERE name = 'entity_relationships';

-- projects
CREATE TABLE projects_new (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    description  TEXT NOT NULL DEFAULT '',
    status       TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'paused', 'done', 'archived')),
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    UNIQUE (user_id, name)
);
INSERT INTO projects_new (id, user_id, name, description, status, created_at, updated_at)
    SELECT id, user_id, name, description, status, created_at, updated_at FROM projects;
DROP TABLE projects;
ALTER TABLE projects_new RENAME TO projects;
INSERT INTO sqlite_sequence (name, seq) SELECT 'projects', 0
    WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'projects');
-- ids purged before this migration were written to the audit log: none of them is handed out again
UPDATE sqlite_sequence SET seq = max(seq, coalesce((SELECT max(target_id) FROM audit_log WHERE target_type = 'project'), 0))
    WHERE name = 'projects';

-- episodes
CREATE TABLE episodes_new (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    title        TEXT NOT NULL,
    summary      TEXT NOT NULL DEFAULT '',
    session_id   TEXT,
    status       TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'finalized')),
    started_at   TEXT NOT NULL,
    ended_at     TEXT,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL
);
INSERT INTO episodes_new (id, user_id, title, summary, session_id, status, started_at, ended_at, created_at, updated_at)
    SELECT id, user_id, title, summary, session_id, status, started_at, ended_at, created_at, updated_at FROM episodes;
DROP TABLE episodes;
ALTER TABLE episodes_new RENAME TO episodes;
CREATE INDEX idx_episodes_user ON episodes(user_id, started_at);
INSERT INTO sqlite_sequence (name, seq) SELECT 'episodes', 0
    WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'episodes');
-- ids purged before this migration were written to the audit log: none of them is handed out again
UPDATE sqlite_sequence SET seq = max(seq, coalesce((SELECT max(target_id) FROM audit_log WHERE target_type = 'episode'), 0))
    WHERE name = 'episodes';

-- conversations
CREATE TABLE conversations_new (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    title       TEXT NOT NULL DEFAULT '',
    agent       TEXT NOT NULL DEFAULT '',
    session_id  TEXT,
    metadata    TEXT NOT NULL DEFAULT '{}',
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
INSERT INTO conversations_new (id, user_id, title, agent, session_id, metadata, created_at, updated_at)
    SELECT id, user_id, title, agent, session_id, metadata, created_at, updated_at FROM conversations;
DROP TABLE conversations;
ALTER TABLE conversations_new RENAME TO conversations;
CREATE INDEX idx_conversations_user ON conversations(user_id, updated_at);
INSERT INTO sqlite_sequence (name, seq) SELECT 'conversations', 0
    WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'conversations');
-- ids purged before this migration were written to the audit log: none of them is handed out again
UPDATE sqlite_sequence SET seq = max(seq, coalesce((SELECT max(target_id) FROM audit_log WHERE target_type = 'conversation'), 0))
    WHERE name = 'conversations';

-- messages
CREATE TABLE messages_new (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id          INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    conversation_id  INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    role             TEXT NOT NULL,
    content          TEXT NOT NULL,
    created_at       TEXT NOT NULL
);
INSERT INTO messages_new (id, user_id, conversation_id, role, content, created_at)
    SELECT id, user_id, conversation_id, role, content, created_at FROM messages;
DROP TABLE messages;
ALTER TABLE messages_new RENAME TO messages;
CREATE INDEX idx_messages_conversation ON messages(conversation_id, id);
CREATE TRIGGER messages_fts_ad AFTER DELETE ON messages BEGIN
    INSERT INTO messages_fts(messages_fts, rowid, content, role) VALUES ('delete', old.id, old.content, old.role);
END;
CREATE TRIGGER messages_fts_ai AFTER INSERT ON messages BEGIN
    INSERT INTO messages_fts(rowid, content, role) VALUES (new.id, new.content, new.role);
END;
CREATE TRIGGER messages_fts_au AFTER UPDATE OF content, role ON messages BEGIN
    INSERT INTO messages_fts(messages_fts, rowid, content, role) VALUES ('delete', old.id, old.content, old.role);
    INSERT INTO messages_fts(rowid, content, role) VALUES (new.id, new.content, new.role);
END;
INSERT INTO sqlite_sequence (name, seq) SELECT 'messages', 0
    WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'messages');
-- ids purged before this migration were written to the audit log: none of them is handed out again
UPDATE sqlite_sequence SET seq = max(seq, coalesce((SELECT max(target_id) FROM audit_log WHERE target_type = 'message'), 0))
    WHERE name = 'messages';

-- personality_signals
CREATE TABLE personality_signals_new (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    memory_id   INTEGER NOT NULL REFERENCES memories(id) ON DELETE CASCADE,
    type        TEXT NOT NULL,
    subject     TEXT NOT NULL,
    text        TEXT NOT NULL,
    intensity   REAL NOT NULL,
    valence     REAL NOT NULL,
    created_at  TEXT NOT NULL
);
INSERT INTO personality_signals_new (id, user_id, memory_id, type, subject, text, intensity, valence, created_at)
    SELECT id, user_id, memory_id, type, subject, text, intensity, valence, created_at FROM personality_signals;
DROP TABLE personality_signals;
ALTER TABLE personality_signals_new RENAME TO personality_signals;
CREATE INDEX idx_personality_memory ON personality_signals(memory_id);
CREATE INDEX idx_personality_user_id ON personality_signals(user_id, id);
CREATE INDEX idx_personality_user_type ON personality_signals(user_id, type);
INSERT INTO sqlite_sequence (name, seq) SELECT 'personality_signals', 0
    WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'personality_signals');

-- axon_channels
CREATE TABLE axon_channels_new (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    description  TEXT NOT NULL DEFAULT '',
    retain_hours INTEGER NOT NULL DEFAULT 168,
    created_at   TEXT NOT NULL,
    UNIQUE (user_id, name)
);
INSERT INTO axon_channels_new (id, user_id, name, description, retain_hours, created_at)
    SELECT id, user_id, name, description, retain_hours, created_at FROM axon_channels;
DROP TABLE axon_channels;
ALTER TABLE axon_channels_new RENAME TO axon_channels;
INSERT INTO sqlite_sequence (name, seq) SELECT 'axon_channels', 0
    WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'axon_channels');

-- axon_events
CREATE TABLE axon_events_new (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    channel    TEXT NOT NULL,
    type       TEXT NOT NULL,
    payload    TEXT NOT NULL DEFAULT '{}',
    source     TEXT NOT NULL DEFAULT 'unknown',
    created_at TEXT NOT NULL
);
INSERT INTO axon_events_new (id, user_id, channel, type, payload, source, created_at)
    SELECT id, user_id, channel, type, payload, source, created_at FROM axon_events;
DROP TABLE axon_events;
ALTER TABLE axon_events_new RENAME TO axon_events;
CREATE INDEX idx_axon_events_channel ON axon_events(user_id, channel, id);
CREATE INDEX idx_axon_events_user ON axon_events(user_id, id);
INSERT INTO sqlite_sequence (name, seq) SELECT 'axon_events', 0
    WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'axon_events');

-- axon_subscriptions
CREATE TABLE axon_subscriptions_new (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    agent       TEXT NOT NULL,
    channel     TEXT NOT NULL,
    filter_type TEXT,
    webhook_url TEXT,
    created_at  TEXT NOT NULL,
    UNIQUE (user_id, agent, channel)
);
INSERT INTO axon_subscriptions_new (id, user_id, agent, channel, filter_type, webhook_url, created_at)
    SELECT id, user_id, agent, channel, filter_type, webhook_url, created_at FROM axon_subscriptions;
DROP TABLE axon_subscriptions;
ALTER TABLE axon_subscriptions_new RENAME TO axon_subscriptions;
INSERT INTO sqlite_sequence (name, seq) SELECT 'axon_subscriptions', 0
    WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'axon_subscriptions');

-- webhooks
CREATE TABLE webhooks_new (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id           INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    url               TEXT NOT NULL,
    events            TEXT NOT NULL DEFAULT '["*"]',
    secret            TEXT NOT NULL,
    is_active         INTEGER NOT NULL DEFAULT 1,
    failure_count     INTEGER NOT NULL DEFAULT 0,
    last_triggered_at TEXT,
    created_at        TEXT NOT NULL
);
INSERT INTO webhooks_new (id, user_id, url, events, secret, is_active, failure_count, last_triggered_at, created_at)
    SELECT id, user_id, url, events, secret, is_active, failure_count, last_triggered_at, created_at FROM webhooks;
DROP TABLE webhooks;
ALTER TABLE webhooks_new RENAME TO webhooks;
CREATE INDEX idx_webhooks_user ON webhooks(user_id, is_active);
INSERT INTO sqlite_sequence (name, seq) SELECT 'webhooks', 0
    WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'webhooks');

-- webhook_deliveries
CREATE TABLE webhook_deliveries_new (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id          INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    webhook_id       INTEGER NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
    event            TEXT NOT NULL,
    payload          TEXT NOT NULL,
    status           TEXT NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sending', 'delivered', 'dead')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    run_after        TEXT NOT NULL,
    last_error       TEXT,
    last_status_code INTEGER,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);
INSERT INTO webhook_deliveries_new (id, user_id, webhook_id, event, payload, status, attempts, run_after, last_error, last_status_code, created_at, updated_at)
    SELECT id, user_id, webhook_id, event, payload, status, attempts, run_after, last_error, last_status_code, created_at, updated_at FROM webhook_deliveries;
DROP TABLE webhook_deliveries;
ALTER TABLE webhook_deliveries_new RENAME TO webhook_deliveries;
CREATE INDEX idx_webhook_deliveries_due ON webhook_deliveries(status, run_after);
CREATE INDEX idx_webhook_deliveries_hook ON webhook_deliveries(webhook_id, status, id);
INSERT INTO sqlite_sequence (name, seq) SELECT 'webhook_deliveries', 0
    WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'webhook_deliveries');

-- memory_feedback
CREATE TABLE memory_feedback_new (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    memory_id   INTEGER NOT NULL REFERENCES memories(id) ON DELETE CASCADE,
    rating      TEXT NOT NULL CHECK (rating IN ('helpful', 'irrelevant', 'off-topic', 'outdated')),
    context     TEXT,
    created_at  TEXT NOT NULL
);
INSERT INTO memory_feedback_new (id, user_id, memory_id, rating, context, created_at)
    SELECT id, user_id, memory_id, rating, context, created_at FROM memory_feedback;
DROP TABLE memory_feedback;
ALTER TABLE memory_feedback_new RENAME TO memory_feedback;
CREATE INDEX idx_feedback_memory ON memory_feedback(memory_id);
CREATE INDEX idx_feedback_user ON memory_feedback(user_id, rating);
INSERT INTO sqlite_sequence (name, seq) SELECT 'memory_feedback', 0
    WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'memory_feedback');

-- tasks
CREATE TABLE tasks_new (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    title      TEXT NOT NULL,
    agent      TEXT NOT NULL DEFAULT '',
    project    TEXT NOT NULL DEFAULT '',
    status     TEXT NOT NULL DEFAULT 'active',
    priority   TEXT NOT NULL DEFAULT 'normal',
    summary    TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
INSERT INTO tasks_new (id, user_id, title, agent, project, status, priority, summary, created_at, updated_at)
    SELECT id, user_id, title, agent, project, status, priority, summary, created_at, updated_at FROM tasks;
DROP TABLE tasks;
ALTER TABLE tasks_new RENAME TO tasks;
CREATE INDEX idx_tasks_user_agent ON tasks(user_id, agent, project, status);
CREATE INDEX idx_tasks_user_updated ON tasks(user_id, updated_at);
INSERT INTO sqlite_sequence (name, seq) SELECT 'tasks', 0
    WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'tasks');

-- task_history
CREATE TABLE task_history_new (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    task_id    INTEGER NOT NULL,
    agent      TEXT NOT NULL DEFAULT '',
    status     TEXT NOT NULL,
    priority   TEXT NOT NULL DEFAULT 'normal',
    summary    TEXT NOT NULL DEFAULT '',
    changes    TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL
);
INSERT INTO task_history_new (id, user_id, task_id, agent, status, priority, summary, changes, created_at)
    SELECT id, user_id, task_id, agent, status, priority, summary, changes, created_at FROM task_history;
DROP TABLE task_history;
ALTER TABLE task_history_new RENAME TO task_history;
CREATE INDEX idx_task_history_task ON task_history(user_id, task_id, id);
CREATE INDEX idx_task_history_user ON task_history(user_id, id);
INSERT INTO sqlite_sequence (name, seq) SELECT 'task_history', 0
    WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'task_history');

-- broca_actions
CREATE TABLE broca_actions_new (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id       INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    agent         TEXT NOT NULL,
    service       TEXT NOT NULL DEFAULT 'engram',
    action        TEXT NOT NULL DEFAULT 'unknown',
    target        TEXT NOT NULL DEFAULT '',
    outcome       TEXT NOT NULL DEFAULT '',
    payload       TEXT NOT NULL DEFAULT '{}',
    narrative     TEXT NOT NULL,
    axon_event_id INTEGER,
    created_at    TEXT NOT NULL
);
INSERT INTO broca_actions_new (id, user_id, agent, service, action, target, outcome, payload, narrative, axon_event_id, created_at)
    SELECT id, user_id, agent, service, action, target, outcome, payload, narrative, axon_event_id, created_at FROM broca_actions;
DROP TABLE broca_actions;
ALTER TABLE broca_actions_new RENAME TO broca_actions;
CREATE INDEX idx_broca_actions_agent ON broca_actions(user_id, agent, id);
CREATE INDEX idx_broca_actions_user ON broca_actions(user_id, id);
INSERT INTO sqlite_sequence (name, seq) SELECT 'broca_actions', 0
    WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'broca_actions');

-- soma_agents
CREATE TABLE soma_agents_new (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id       INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    type          TEXT NOT NULL DEFAULT 'agent',
    description   TEXT NOT NULL DEFAULT '',
    capabilities  TEXT NOT NULL DEFAULT '[]',
    status        TEXT NOT NULL DEFAULT 'pending',
    config        TEXT NOT NULL DEFAULT '{}',
    heartbeat_at  TEXT,
    quality_score REAL,
    drift_flags   TEXT NOT NULL DEFAULT '[]',
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    UNIQUE (user_id, name)
);
INSERT INTO soma_agents_new (id, user_id, name, type, description, capabilities, status, config, heartbeat_at, quality_score, drift_flags, created_at, updated_at)
    SELECT id, user_id, name, type, description, capabilities, status, config, heartbeat_at, quality_score, drift_flags, created_at, updated_at FROM soma_agents;
DROP TABLE soma_agents;
ALTER TABLE soma_agents_new RENAME TO soma_agents;
CREATE INDEX idx_soma_agents_status ON soma_agents(status, heartbeat_at);
INSERT INTO sqlite_sequence (name, seq) SELECT 'soma_agents', 0
    WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'soma_agents');

-- soma_groups
CREATE TABLE soma_groups_new (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    created_at  TEXT NOT NULL,
    UNIQUE (user_id, name)
);
INSERT INTO soma_groups_new (id, user_id, name, description, created_at)
    SELECT id, user_id, name, description, created_at FROM soma_groups;
DROP TABLE soma_groups;
ALTER TABLE soma_groups_new RENAME TO soma_groups;
INSERT INTO sqlite_sequence (name, seq) SELECT 'soma_groups', 0
    WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'soma_groups');

-- loom_workflows
CREATE TABLE loom_workflows_new (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    steps       TEXT NOT NULL DEFAULT '[]',
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    UNIQUE (user_id, name)
);
INSERT INTO loom_workflows_new (id, user_id, name, description, steps, created_at, updated_at)
    SELECT id, user_id, name, description, steps, created_at, updated_at FROM loom_workflows;
DROP TABLE loom_workflows;
ALTER TABLE loom_workflows_new RENAME TO loom_workflows;
INSERT INTO sqlite_sequence (name, seq) SELECT 'loom_workflows', 0
    WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'loom_workflows');

-- loom_runs
CREATE TABLE loom_runs_new (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    workflow_id  INTEGER NOT NULL REFERENCES loom_workflows(id) ON DELETE CASCADE,
    status       TEXT NOT NULL DEFAULT 'pending',
    input        TEXT NOT NULL DEFAULT '{}',
    output       TEXT,
    error        TEXT,
    started_at   TEXT,
    completed_at TEXT,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL
);
INSERT INTO loom_runs_new (id, user_id, workflow_id, status, input, output, error, started_at, completed_at, created_at, updated_at)
    SELECT id, user_id, workflow_id, status, input, output, error, started_at, completed_at, created_at, updated_at FROM loom_runs;
DROP TABLE loom_runs;
ALTER TABLE loom_runs_new RENAME TO loom_runs;
CREATE INDEX idx_loom_runs_user ON loom_runs(user_id, id);
INSERT INTO sqlite_sequence (name, seq) SELECT 'loom_runs', 0
    WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'loom_runs');

-- loom_steps
CREATE TABLE loom_steps_new (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    run_id       INTEGER NOT NULL REFERENCES loom_runs(id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    type         TEXT NOT NULL,
    config       TEXT NOT NULL DEFAULT '{}',
    status       TEXT NOT NULL DEFAULT 'pending',
    input        TEXT,
    output       TEXT,
    error        TEXT,
    depends_on   TEXT NOT NULL DEFAULT '[]',
    retry_count  INTEGER NOT NULL DEFAULT 0,
    max_retries  INTEGER NOT NULL DEFAULT 3,
    timeout_ms   INTEGER NOT NULL DEFAULT 30000,
    started_at   TEXT,
    completed_at TEXT,
    created_at   TEXT NOT NULL
);
INSERT INTO loom_steps_new (id, user_id, run_id, name, type, config, status, input, output, error, depends_on, retry_count, max_retries, timeout_ms, started_at, completed_at, created_at)
    SELECT id, user_id, run_id, name, type, config, status, input, output, error, depends_on, retry_count, max_retries, timeout_ms, started_at, completed_at, created_at FROM loom_steps;
DROP TABLE loom_steps;
ALTER TABLE loom_steps_new RENAME TO loom_steps;
CREATE INDEX idx_loom_steps_run ON loom_steps(run_id, id);
CREATE INDEX idx_loom_steps_running ON loom_steps(status, started_at);
INSERT INTO sqlite_sequence (name, seq) SELECT 'loom_steps', 0
    WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'loom_steps');

