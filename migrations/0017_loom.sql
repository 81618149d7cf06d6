-- loom: workflow definitions (steps with dependencies), runs and their steps. A run's whole state is
-- in these rows, so it carries on after a restart (step timeouts are checked by the periodic upkeep).
CREATE TABLE loom_workflows (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    steps       TEXT NOT NULL DEFAULT '[]',
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    UNIQUE (user_id, name)
);

CREATE TABLE loom_runs (
    id           INTEGER PRIMARY KEY,
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
CREATE INDEX idx_loom_runs_user ON loom_runs(user_id, id);

CREATE TABLE loom_steps (
    id           INTEGER PRIMARY KEY,
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
CREATE INDEX idx_loom_steps_run ON loom_steps(run_id, id);
CREATE INDEX idx_loom_steps_running ON loom_steps(status, started_at);
