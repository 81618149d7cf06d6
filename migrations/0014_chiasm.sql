-- chiasm: tasks of an agent team, with every change kept in task_history.
CREATE TABLE tasks (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    title      TEXT NOT NULL,
    agent      TEXT NOT NULL DEFAULT '',
    project    TEXT NOT NULL DEFAULT '',
    status     TEXT NOT NULL DEFAULT 'active',
    priority   TEXT NOT NULL DEFAULT 'normal',
    summary    TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX idx_tasks_user_updated ON tasks(user_id, updated_at);
CREATE INDEX idx_tasks_user_agent ON tasks(user_id, agent, project, status);

CREATE TABLE task_history (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    task_id    INTEGER NOT NULL,
    agent      TEXT NOT NULL DEFAULT '',
    status     TEXT NOT NULL,
    priority   TEXT NOT NULL DEFAULT 'normal',
    summary    TEXT NOT NULL DEFAULT '',
    changes    TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL
);
CREATE INDEX idx_task_history_task ON task_history(user_id, task_id, id);
CREATE INDEX idx_task_history_user ON task_history(user_id, id);
