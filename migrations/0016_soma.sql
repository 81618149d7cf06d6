-- soma: the agent registry (capabilities, heartbeats, status) and groups of agents.
CREATE TABLE soma_agents (
    id            INTEGER PRIMARY KEY,
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
CREATE INDEX idx_soma_agents_status ON soma_agents(status, heartbeat_at);

CREATE TABLE soma_groups (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    created_at  TEXT NOT NULL,
    UNIQUE (user_id, name)
);

CREATE TABLE soma_group_members (
    group_id   INTEGER NOT NULL REFERENCES soma_groups(id) ON DELETE CASCADE,
    agent_id   INTEGER NOT NULL REFERENCES soma_agents(id) ON DELETE CASCADE,
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    added_at   TEXT NOT NULL,
    PRIMARY KEY (group_id, agent_id)
);
