"""Issue 18 §3: ids are never handed out twice (AUTOINCREMENT), and the migration that rebuilds the tables
keeps every row, index, trigger, foreign key and FTS link of a database the earlier migrations built."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from engram_core.storage.connection import connect
from engram_core.storage.migrate import apply_migrations, migrations_dir
from tests.helpers import Api

MIGRATION = "0018_ids_never_reused.sql"
REBUILT = [
    "users",
    "api_keys",
    "spaces",
    "memories",
    "memory_links",
    "jobs",
    "audit_log",
    "entities",
    "entity_relationships",
    "projects",
    "episodes",
    "conversations",
    "messages",
    "personality_signals",
    "axon_channels",
    "axon_events",
    "axon_subscriptions",
    "webhooks",
    "webhook_deliveries",
    "memory_feedback",
    "tasks",
    "task_history",
    "broca_actions",
    "soma_agents",
    "soma_groups",
    "loom_workflows",
    "loom_runs",
    "loom_steps",
]
NOW = "2026-01-01T00:00:00Z"


def _populate(c: Any) -> None:
    """At least one row in every table, ids with gaps (the newest memory purged, audited above the max)."""
    c.execute("INSERT INTO users (id, name, created_at) VALUES (1, 'admin', ?), (2, 'bob', ?)", (NOW, NOW))
    c.execute(
        "INSERT INTO api_keys (id, user_id, prefix, key_hash, scopes, created_at) VALUES"
        " (1, 1, 'p1', 'h1', 'read', ?), (2, 2, 'p2', 'h2', 'read', ?)",
        (NOW, NOW),
    )
    c.execute("INSERT INTO spaces (id, user_id, name, created_at) VALUES (1, 2, 'work', ?)", (NOW,))
    for i, (content, tags) in enumerate(
        (("herons nest by the river", '["birds","river"]'), ("kingfishers dive", '["birds"]'), ("a third", "[]")),
        start=1,
    ):
        c.execute(
            "INSERT INTO memories (id, user_id, content, tags, space_id, root_id, simhash, created_at, updated_at)"
            " VALUES (?, 2, ?, ?, 1, ?, ?, ?, ?)",
            (i, content, tags, i, 1000 * i, NOW, NOW),
        )
    c.execute("UPDATE memories SET parent_id = 1 WHERE id = 2")
    c.execute(
        "INSERT INTO memory_links (id, user_id, source_id, target_id, link_type, created_at)"
        " VALUES (1, 2, 1, 2, 'related', ?)",
        (NOW,),
    )
    c.execute(
        "INSERT INTO jobs (id, user_id, kind, run_after, created_at, updated_at) VALUES (1, 2, 'x', ?, ?, ?)",
        (NOW, NOW, NOW),
    )
    c.execute(
        "INSERT INTO audit_log (id, user_id, action, target_type, target_id, created_at) VALUES"
        " (1, 2, 'memory.store', 'memory', 5, ?), (2, 2, 'memory.purge', 'memory', 5, ?)",
        (NOW, NOW),
    )
    c.execute(
        "INSERT INTO entities (id, user_id, name, created_at, updated_at) VALUES (1, 2, 'Heron', ?, ?),"
        " (2, 2, 'River', ?, ?)",
        (NOW, NOW, NOW, NOW),
    )
    c.execute("INSERT INTO memory_entities (memory_id, entity_id, user_id, created_at) VALUES (1, 1, 2, ?)", (NOW,))
    c.execute("INSERT INTO entity_cooccurrences (user_id, entity_a, entity_b, updated_at) VALUES (2, 1, 2, ?)", (NOW,))
    c.execute(
        "INSERT INTO entity_relationships (id, user_id, source_id, target_id, relationship, created_at)"
        " VALUES (1, 2, 1, 2, 'lives by', ?)",
        (NOW,),
    )
    c.execute("INSERT INTO projects (id, user_id, name, created_at, updated_at) VALUES (1, 2, 'p', ?, ?)", (NOW, NOW))
    c.execute("INSERT INTO project_memories (project_id, memory_id, user_id, added_at) VALUES (1, 1, 2, ?)", (NOW,))
    c.execute(
        "INSERT INTO episodes (id, user_id, title, started_at, created_at, updated_at) VALUES (1, 2, 'e', ?, ?, ?)",
        (NOW, NOW, NOW),
    )
    c.execute(
        "INSERT INTO episode_memories (episode_id, memory_id, user_id, position, added_at) VALUES (1, 1, 2, 0, ?)",
        (NOW,),
    )
    c.execute("INSERT INTO conversations (id, user_id, created_at, updated_at) VALUES (1, 2, ?, ?)", (NOW, NOW))
    c.execute(
        "INSERT INTO messages (id, user_id, conversation_id, role, content, created_at)"
        " VALUES (1, 2, 1, 'user', 'about the herons', ?)",
        (NOW,),
    )
    c.execute(
        "INSERT INTO personality_signals (id, user_id, memory_id, type, subject, text, intensity, valence,"
        " created_at) VALUES (1, 2, 1, 'preference', 'herons', 'likes herons', 0.5, 0.5, ?)",
        (NOW,),
    )


def _schema(c: Any) -> dict[str, str]:
    rows = c.execute("SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL").fetchall()
    return {f"{t} {n}": re.sub(r"\s+", " ", s) for t, n, s in rows}


def _rows(c: Any) -> dict[str, list[tuple[Any, ...]]]:
    names = [
        r[0]
        for r in c.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite%'"
            " AND name != 'schema_migrations'"
        )
    ]
    return {n: sorted(tuple(r) for r in c.execute(f'SELECT * FROM "{n}"')) for n in names}


@pytest.fixture
def before_dir(tmp_path: Path) -> Path:
    before = tmp_path / "before"
    before.mkdir()
    for path in sorted(migrations_dir().glob("*.sql")):
        if path.name < MIGRATION:
            shutil.copy(path, before / path.name)
    return before


def test_the_migration_keeps_rows_indexes_triggers_keys_and_fts(tmp_path: Path, before_dir: Path) -> None:
    conn = connect(tmp_path / "t.db")
    try:
        apply_migrations(conn, before_dir)
        conn.execute("BEGIN")
        _populate(conn)
        conn.execute("COMMIT")
        schema, rows = _schema(conn), _rows(conn)
        through = tmp_path / "through"  # this migration, not the ones after it (they add tables)
        shutil.copytree(before_dir, through)
        shutil.copy(migrations_dir() / MIGRATION, through / MIGRATION)
        assert MIGRATION in apply_migrations(conn, through)
        after = _schema(conn)
        # Every index and trigger exactly as before; each rebuilt table differs only by AUTOINCREMENT.
        assert {k for k in after if not k.startswith("table sqlite_sequence")} == set(schema)
        for key, sql in schema.items():
            kind, name = key.split(" ", 1)
            if kind == "table" and name in REBUILT:
                expected = sql.replace("id INTEGER PRIMARY KEY,", "id INTEGER PRIMARY KEY AUTOINCREMENT,", 1)
                assert after[key].replace(f'CREATE TABLE "{name}"', f"CREATE TABLE {name}") == expected, name
            else:
                assert after[key] == sql, key
        assert _rows(conn) == rows  # every row of every table, FTS shadow tables included
        assert list(conn.execute("PRAGMA foreign_key_check")) == []
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        conn.execute("INSERT INTO memories_fts(memories_fts, rank) VALUES ('integrity-check', 1)")
        conn.execute("INSERT INTO messages_fts(messages_fts, rank) VALUES ('integrity-check', 1)")
        sql = "SELECT rowid FROM memories_fts WHERE memories_fts MATCH 'herons'"
        assert [r[0] for r in conn.execute(sql)] == [1]
        # The triggers work on the rebuilt table; the foreign keys still cascade.
        conn.execute("UPDATE memories SET tags = '[\"heron\"]' WHERE id = 1")
        assert [r[0] for r in conn.execute("SELECT tag FROM memory_tags WHERE memory_id = 1")] == ["heron"]
        conn.execute("DELETE FROM memories WHERE id = 1")
        assert conn.execute("SELECT count(*) FROM memory_links").fetchone()[0] == 0
        assert conn.execute("SELECT parent_id FROM memories WHERE id = 2").fetchone()[0] is None
        # Memory 5 was purged before the migration (the audit log says so): the next memory is 6, not 4.
        cur = conn.execute(
            "INSERT INTO memories (user_id, content, created_at, updated_at) VALUES (2, 'new', ?, ?)", (NOW, NOW)
        )
        assert cur.lastrowid == 6
    finally:
        conn.close()


def test_a_purged_id_is_never_handed_out_again(api: Api) -> None:
    key = api.admin_key
    first = api.store(key, "the first note about lighthouses")
    last = api.store(key, "the newest note about tidal pools")
    for path in (f"/memory/{last}", f"/memory/{last}/purge"):
        assert api.call("DELETE" if path.count("/") == 2 else "POST", path, key).status_code == 200
    again = api.store(key, "a later note about sea glass")
    assert again > last > first
    assert api.call("GET", f"/memory/{last}", key).status_code == 404
    # The same for the other collections a client keeps ids of.
    for path, body in (
        ("/entities", {"name": "Lighthouse"}),
        ("/projects", {"name": "Coast"}),
        ("/conversations", {"title": "c"}),
        ("/episodes", {"title": "e"}),
    ):
        made = api.call("POST", path, key, json=body).json()["id"]
        assert api.call("DELETE", f"{path}/{made}", key).status_code in (200, 204, 405)
        if api.call("GET", f"{path}/{made}", key).status_code == 404:
            assert api.call("POST", path, key, json=body).json()["id"] > made, path


def test_every_table_with_an_integer_id_uses_autoincrement(tmp_path: Path) -> None:
    """Tables added after migration 0018 keep the rule: an id, once handed out, is never handed out again
    (a client holding a purged memory's id must not reach a newer memory through it)."""
    conn = connect(tmp_path / "x.db")
    apply_migrations(conn)
    tables = conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND sql NOT LIKE 'CREATE VIRTUAL%'"
        " AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '%fts%'"
    ).fetchall()
    keyed = [
        (name, sql)
        for name, sql in tables
        if any(
            c[1] == "id" and c[5] == 1 and c[2].upper() == "INTEGER"
            for c in conn.execute(f'PRAGMA table_info("{name}")')
        )
    ]
    conn.close()
    assert len(keyed) >= 35, [n for n, _ in keyed]
    assert [name for name, sql in keyed if "AUTOINCREMENT" not in sql.upper()] == []
