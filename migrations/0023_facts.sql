-- Structured facts in time and contradictions (issue 12). Both are derived from memory text by the
-- post-store ``understand`` job; a memory is never deleted by them (a purge cascades its rows away).

-- Ids are never reused (AUTOINCREMENT, as 0018 set out).
-- (subject, predicate, object) with polarity (1 states it, -1 denies it: "I no longer live in Paris"),
-- valid from ``valid_at`` (the date the text names, else the memory's created_at) until ``invalid_at``
-- (set when a later fact on the same subject and predicate replaces it; NULL: current).
CREATE TABLE facts (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id        INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    memory_id      INTEGER NOT NULL REFERENCES memories(id) ON DELETE CASCADE,
    subject        TEXT NOT NULL,
    predicate      TEXT NOT NULL,
    object         TEXT NOT NULL,
    polarity       INTEGER NOT NULL DEFAULT 1 CHECK (polarity IN (1, -1)),
    confidence     REAL NOT NULL DEFAULT 0.8,
    valid_at       TEXT NOT NULL,
    invalid_at     TEXT,
    superseded_by  INTEGER REFERENCES facts(id) ON DELETE SET NULL,
    created_at     TEXT NOT NULL,
    UNIQUE (memory_id, subject, predicate, object, polarity)
);
CREATE INDEX idx_facts_user_sp ON facts(user_id, subject, predicate, valid_at);

-- A pair of memories that cannot both be true now: ``memory_a`` the newer, ``memory_b`` the older.
-- ``fact_key`` (subject|predicate) marks the pairs a fact timeline made (recomputed with it).
CREATE TABLE contradictions (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    memory_a     INTEGER NOT NULL REFERENCES memories(id) ON DELETE CASCADE,
    memory_b     INTEGER NOT NULL REFERENCES memories(id) ON DELETE CASCADE,
    kind         TEXT NOT NULL,
    confidence   REAL NOT NULL,
    description  TEXT NOT NULL,
    fact_key     TEXT,
    created_at   TEXT NOT NULL,
    UNIQUE (memory_a, memory_b)
);
CREATE INDEX idx_contradictions_user ON contradictions(user_id, id);
CREATE INDEX idx_contradictions_b ON contradictions(memory_b);
