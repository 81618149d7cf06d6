-- Webhooks: registered targets and a durable delivery queue. A delivery row is written in the same
-- transaction as the event that causes it; the sender retries with exponential backoff and leaves a
-- delivery 'dead' (a dead letter) after the last attempt. Rows left 'sending' by a crash are queued again.
CREATE TABLE webhooks (
    id                INTEGER PRIMARY KEY,
    user_id           INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    url               TEXT NOT NULL,
    events            TEXT NOT NULL DEFAULT '["*"]',
    secret            TEXT NOT NULL,
    is_active         INTEGER NOT NULL DEFAULT 1,
    failure_count     INTEGER NOT NULL DEFAULT 0,
    last_triggered_at TEXT,
    created_at        TEXT NOT NULL
);
CREATE INDEX idx_webhooks_user ON webhooks(user_id, is_active);

CREATE TABLE webhook_deliveries (
    id               INTEGER PRIMARY KEY,
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
CREATE INDEX idx_webhook_deliveries_due ON webhook_deliveries(status, run_after);
CREATE INDEX idx_webhook_deliveries_hook ON webhook_deliveries(webhook_id, status, id);
