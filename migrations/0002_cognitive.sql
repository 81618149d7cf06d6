-- Engram cognitive core: graph state, entities (+ co-occurrence, relationships), projects, episodes,
-- conversations and messages (+ FTS5). Every user-owned row carries user_id.

-- Per-user graph bookkeeping: links changed since the last PageRank, and when ranks were last computed.
CREATE TABLE graph_state (
    user_id          INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    links_changed    INTEGER NOT NULL DEFAULT 0,
    pagerank_at      TEXT,
    communities_at   TEXT
);

CREATE INDEX idx_links_source_type ON memory_links(source_id, link_type);
CREATE INDEX idx_links_user_created ON memory_links(user_id, created_at);
CREATE INDEX idx_memories_user_community ON memories(user_id, community) WHERE community IS NOT NULL;

CREATE TABLE entities (
    id           INTEGER PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    entity_type  TEXT NOT NULL DEFAULT 'thing',
    description  TEXT NOT NULL DEFAULT '',
    aliases      TEXT NOT NULL DEFAULT '[]',
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    UNIQUE (user_id, entity_type, name COLLATE NOCASE)
);
CREATE INDEX idx_entities_user ON entities(user_id, name COLLATE NOCASE);

CREATE TABLE memory_entities (
    memory_id   INTEGER NOT NULL REFERENCES memories(id) ON DELETE CASCADE,
    entity_id   INTEGER NOT NULL REFERENCES entities(id) ON DELETE CASCADE,
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at  TEXT NOT NULL,
    PRIMARY KEY (memory_id, entity_id)
);
CREATE INDEX idx_memory_entities_entity ON memory_entities(entity_id);

-- Unordered pairs (entity_a < entity_b) and how many memories mention both.
CREATE TABLE entity_cooccurrences (
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    entity_a    INTEGER NOT NULL REFERENCES entities(id) ON DELETE CASCADE,
    entity_b    INTEGER NOT NULL REFERENCES entities(id) ON DELETE CASCADE,
    count       INTEGER NOT NULL DEFAULT 0,
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (entity_a, entity_b),
    CHECK (entity_a < entity_b)
);
CREATE INDEX idx_cooccurrences_b ON entity_cooccurrences(entity_b);

CREATE TABLE entity_relationships (
    id            INTEGER PRIMARY KEY,
    user_id       INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    source_id     INTEGER NOT NULL REFERENCES entities(id) ON DELETE CASCADE,
    target_id     INTEGER NOT NULL REFERENCES entities(id) ON DELETE CASCADE,
    relationship  TEXT NOT NULL,
    weight        REAL NOT NULL DEFAULT 1.0,
    created_at    TEXT NOT NULL,
    UNIQUE (source_id, target_id, relationship)
);
CREATE INDEX idx_entity_rel_target ON entity_relationships(target_id);

CREATE TABLE projects (
    id           INTEGER PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    description  TEXT NOT NULL DEFAULT '',
    status       TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'paused', 'done', 'archived')),
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    UNIQUE (user_id, name)
);

CREATE TABLE project_memories (
    project_id  INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    memory_id   INTEGER NOT NULL REFERENCES memories(id) ON DELETE CASCADE,
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    added_at    TEXT NOT NULL,
    PRIMARY KEY (project_id, memory_id)
);
CREATE INDEX idx_project_memories_memory ON project_memories(memory_id);

CREATE TABLE episodes (
    id           INTEGER PRIMARY KEY,
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
CREATE INDEX idx_episodes_user ON episodes(user_id, started_at);

CREATE TABLE episode_memories (
    episode_id  INTEGER NOT NULL REFERENCES episodes(id) ON DELETE CASCADE,
    memory_id   INTEGER NOT NULL REFERENCES memories(id) ON DELETE CASCADE,
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    position    INTEGER NOT NULL,
    added_at    TEXT NOT NULL,
    PRIMARY KEY (episode_id, memory_id)
);
CREATE INDEX idx_episode_memories_memory ON episode_memories(memory_id);

CREATE TABLE conversations (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    title       TEXT NOT NULL DEFAULT '',
    agent       TEXT NOT NULL DEFAULT '',
    session_id  TEXT,
    metadata    TEXT NOT NULL DEFAULT '{}',
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX idx_conversations_user ON conversations(user_id, updated_at);

CREATE TABLE messages (
    id               INTEGER PRIMARY KEY,
    user_id          INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    conversation_id  INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    role             TEXT NOT NULL,
    content          TEXT NOT NULL,
    created_at       TEXT NOT NULL
);
CREATE INDEX idx_messages_conversation ON messages(conversation_id, id);

CREATE VIRTUAL TABLE messages_fts USING fts5(
    content, role,
    content='messages', content_rowid='id',
    tokenize='porter unicode61'
);

CREATE TRIGGER messages_fts_ai AFTER INSERT ON messages BEGIN
    INSERT INTO messages_fts(rowid, content, role) VALUES (new.id, new.content, new.role);
END;

CREATE TRIGGER messages_fts_ad AFTER DELETE ON messages BEGIN
    INSERT INTO messages_fts(messages_fts, rowid, content, role) VALUES ('delete', old.id, old.content, old.role);
END;

CREATE TRIGGER messages_fts_au AFTER UPDATE OF content, role ON messages BEGIN
    INSERT INTO messages_fts(messages_fts, rowid, content, role) VALUES ('delete', old.id, old.content, old.role);
    INSERT INTO messages_fts(rowid, content, role) VALUES (new.id, new.content, new.role);
END;
