-- soma agent logs (what an agent reports about itself) and loom run logs (one entry per step start,
-- completion, retry, failure or timeout, and per run start and end, written in the transaction that
-- makes the change). Ids are AUTOINCREMENT: never reused (migration 0018).
CREATE TABLE soma_agent_logs (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    agent_id   INTEGER NOT NULL REFERENCES soma_agents(id) ON DELETE CASCADE,
    level      TEXT NOT NULL DEFAULT 'info',
    message    TEXT NOT NULL,
    data       TEXT NOT NULL DEFAULT '{}',              -- JSON
    created_at TEXT NOT NULL
);
CREATE INDEX idx_soma_agent_logs_agent ON soma_agent_logs(agent_id, id);

CREATE TABLE loom_run_logs (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    run_id     INTEGER NOT NULL REFERENCES loom_runs(id) ON DELETE CASCADE,
    step_id    INTEGER REFERENCES loom_steps(id) ON DELETE CASCADE,
    level      TEXT NOT NULL DEFAULT 'info' CHECK (level IN ('info', 'warn', 'error')),
    message    TEXT NOT NULL,
    data       TEXT NOT NULL DEFAULT '{}',              -- JSON
    created_at TEXT NOT NULL
);
CREATE INDEX idx_loom_run_logs_run ON loom_run_logs(run_id, id);
