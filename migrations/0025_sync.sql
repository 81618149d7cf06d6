-- One-way replication between Engram instances (issue 16): GET /sync/changes?since=<cursor> reads the
-- change log, POST /sync/receive applies another instance's changes.
--
-- ``sync_id`` names a memory's version chain across instances: ``<instance>:<root id>`` where it was first
-- stored (``sync_instance``: one random id per database), kept as it travels. ``sync_log`` gets a row in the same
-- transaction as every change to a memory (a pre-commit hook on the change feed): its id is the cursor.
-- ``sync_ids`` maps the sync ids of memories received from elsewhere to their local chain.
-- Ids are never reused (AUTOINCREMENT, as 0018 set out).
CREATE TABLE sync_instance (instance TEXT PRIMARY KEY);
INSERT INTO sync_instance (instance) VALUES (lower(hex(randomblob(6))));

CREATE TABLE sync_log (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    sync_id      TEXT NOT NULL,
    memory_id    INTEGER NOT NULL,  -- the version that changed (no FK: a purged memory's delete stays logged)
    change_type  TEXT NOT NULL CHECK (change_type IN ('insert', 'update', 'delete')),
    created_at   TEXT NOT NULL
);
CREATE INDEX idx_sync_log_user ON sync_log(user_id, id);
CREATE INDEX idx_sync_log_chain ON sync_log(user_id, sync_id, id);
CREATE INDEX idx_sync_log_memory ON sync_log(memory_id);

CREATE TABLE sync_ids (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    sync_id      TEXT NOT NULL,
    root_id      INTEGER NOT NULL,
    created_at   TEXT NOT NULL,
    UNIQUE (user_id, sync_id)
);
CREATE INDEX idx_sync_ids_root ON sync_ids(root_id);

-- What exists already is in the log once, as an insert of its latest live version.
INSERT INTO sync_log (user_id, sync_id, memory_id, change_type, created_at)
    SELECT m.user_id, (SELECT instance FROM sync_instance) || ':' || coalesce(m.root_id, m.id), m.id,
           'insert', m.updated_at
    FROM memories m WHERE m.is_latest = 1 AND m.is_deleted = 0 ORDER BY m.id;
