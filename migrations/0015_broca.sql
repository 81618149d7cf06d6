-- broca: the action log of an agent team (who did what, to what, with which outcome).
CREATE TABLE broca_actions (
    id            INTEGER PRIMARY KEY,
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
CREATE INDEX idx_broca_actions_user ON broca_actions(user_id, id);
CREATE INDEX idx_broca_actions_agent ON broca_actions(user_id, agent, id);
