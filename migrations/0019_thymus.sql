-- thymus: quality rubrics with weighted criteria, evaluations scored against them, and metrics.
CREATE TABLE thymus_rubrics (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    criteria    TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    UNIQUE (user_id, name)
);

CREATE TABLE thymus_evaluations (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id       INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    rubric_id     INTEGER NOT NULL REFERENCES thymus_rubrics(id) ON DELETE CASCADE,
    agent         TEXT NOT NULL,
    subject       TEXT NOT NULL,
    input         TEXT NOT NULL DEFAULT '{}',
    output        TEXT NOT NULL DEFAULT '{}',
    scores        TEXT NOT NULL,
    overall_score REAL NOT NULL,
    notes         TEXT NOT NULL DEFAULT '',
    evaluator     TEXT NOT NULL,
    created_at    TEXT NOT NULL
);
CREATE INDEX idx_thymus_evaluations_agent ON thymus_evaluations(user_id, agent, id);

CREATE TABLE thymus_metrics (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    agent       TEXT NOT NULL,
    metric      TEXT NOT NULL,
    value       REAL NOT NULL,
    tags        TEXT NOT NULL DEFAULT '{}',
    recorded_at TEXT NOT NULL
);
CREATE INDEX idx_thymus_metrics ON thymus_metrics(user_id, agent, metric, recorded_at);
