-- thymus: drift events (an agent straying from its rules, priorities or character, with type and
-- severity) and per-session quality (turns, rules followed and drifted, compliance, personality score).
-- Ids are AUTOINCREMENT: never reused (migration 0018).
CREATE TABLE thymus_drift_events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    agent      TEXT NOT NULL,
    session_id TEXT,
    signal     TEXT NOT NULL,
    drift_type TEXT NOT NULL
        CHECK (drift_type IN ('priority', 'framework', 'interaction', 'meaning', 'safety', 'structural')),
    severity   TEXT NOT NULL DEFAULT 'low' CHECK (severity IN ('low', 'medium', 'high', 'critical')),
    created_at TEXT NOT NULL
);
CREATE INDEX idx_thymus_drift_agent ON thymus_drift_events(user_id, agent, id);

CREATE TABLE thymus_session_quality (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id              INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    session_id           TEXT NOT NULL,
    agent                TEXT NOT NULL,
    turn_count           INTEGER,
    rules_followed       TEXT NOT NULL DEFAULT '[]',   -- JSON list of rule names
    rules_drifted        TEXT NOT NULL DEFAULT '[]',   -- JSON list of rule names
    personality_score    REAL,
    rule_compliance_rate REAL,
    created_at           TEXT NOT NULL
);
CREATE INDEX idx_thymus_session_quality ON thymus_session_quality(user_id, agent, id);
