-- axon: the event bus. Events are rows (durable: polling cursors and SSE resume read them back after a
-- restart); channels, per-agent subscriptions and per-agent cursors are per user.
CREATE TABLE axon_channels (
    id           INTEGER PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    description  TEXT NOT NULL DEFAULT '',
    retain_hours INTEGER NOT NULL DEFAULT 168,
    created_at   TEXT NOT NULL,
    UNIQUE (user_id, name)
);

CREATE TABLE axon_events (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    channel    TEXT NOT NULL,
    type       TEXT NOT NULL,
    payload    TEXT NOT NULL DEFAULT '{}',
    source     TEXT NOT NULL DEFAULT 'unknown',
    created_at TEXT NOT NULL
);
CREATE INDEX idx_axon_events_user ON axon_events(user_id, id);
CREATE INDEX idx_axon_events_channel ON axon_events(user_id, channel, id);

CREATE TABLE axon_subscriptions (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    agent       TEXT NOT NULL,
    channel     TEXT NOT NULL,
    filter_type TEXT,
    webhook_url TEXT,
    created_at  TEXT NOT NULL,
    UNIQUE (user_id, agent, channel)
);

CREATE TABLE axon_cursors (
    user_id       INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    agent         TEXT NOT NULL,
    channel       TEXT NOT NULL,
    last_event_id INTEGER NOT NULL DEFAULT 0,
    updated_at    TEXT NOT NULL,
    PRIMARY KEY (user_id, agent, channel)
);
