from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from engram_core.errors import MigrationError
from engram_core.storage.connection import connect
from engram_core.storage.migrate import apply_migrations, discover, migrations_dir, split_statements


def _schema(conn: sqlite3.Connection) -> set[tuple[str, str]]:
    return {(r[0], r[1]) for r in conn.execute("SELECT type, name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'")}


def test_fresh_database_gets_the_exact_schema(tmp_path: Path) -> None:
    conn = connect(tmp_path / "a.db")
    applied = apply_migrations(conn)
    assert applied == [m.name for m in discover()]
    schema = _schema(conn)
    for table in (
        "users",
        "api_keys",
        "spaces",
        "memories",
        "memories_fts",
        "memory_links",
        "jobs",
        "audit_log",
        "meta",
    ):
        assert ("table", table) in schema
    for trigger in ("memories_fts_ai", "memories_fts_ad", "memories_fts_au"):
        assert ("trigger", trigger) in schema
    # Same migrations on a second fresh database give the same schema, statement for statement.
    other = connect(tmp_path / "b.db")
    apply_migrations(other)
    sql = "SELECT type, name, sql FROM sqlite_master ORDER BY name"
    assert conn.execute(sql).fetchall() == other.execute(sql).fetchall()
    rows = conn.execute("SELECT name, checksum, applied_at FROM schema_migrations").fetchall()
    assert [r[0] for r in rows] == applied
    assert all(len(r[1]) == 64 and r[2].endswith("Z") for r in rows)


def test_rerun_is_a_noop(tmp_path: Path) -> None:
    conn = connect(tmp_path / "a.db")
    apply_migrations(conn)
    before = conn.execute("SELECT * FROM schema_migrations").fetchall()
    assert apply_migrations(conn) == []
    assert conn.execute("SELECT * FROM schema_migrations").fetchall() == before


def test_edited_migration_is_refused(tmp_path: Path) -> None:
    mig = tmp_path / "migrations"
    mig.mkdir()
    (mig / "0001_one.sql").write_text("CREATE TABLE t (a INTEGER);\n")
    conn = connect(tmp_path / "a.db")
    assert apply_migrations(conn, mig) == ["0001_one.sql"]
    (mig / "0001_one.sql").write_text("CREATE TABLE t (a INTEGER, b TEXT);\n")
    with pytest.raises(MigrationError, match="was edited after it was applied"):
        apply_migrations(conn, mig)


def test_failed_migration_rolls_back_whole_file(tmp_path: Path) -> None:
    mig = tmp_path / "migrations"
    mig.mkdir()
    (mig / "0001_bad.sql").write_text("CREATE TABLE ok (a INTEGER);\nCREATE TABLE broken (;\n")
    conn = connect(tmp_path / "a.db")
    with pytest.raises(MigrationError, match="0001_bad.sql failed"):
        apply_migrations(conn, mig)
    assert conn.execute("SELECT count(*) FROM sqlite_master WHERE name = 'ok'").fetchone()[0] == 0
    assert conn.execute("SELECT count(*) FROM schema_migrations").fetchone()[0] == 0


def test_split_keeps_triggers_whole() -> None:
    sql = (migrations_dir() / "0001_initial.sql").read_text()
    statements = split_statements(sql)
    triggers = [s for s in statements if s.startswith("CREATE TRIGGER")]
    assert len(triggers) == 3
    assert all(s.rstrip().endswith("END;") for s in triggers)


def test_badly_named_migration_is_refused(tmp_path: Path) -> None:
    (tmp_path / "one.sql").write_text("SELECT 1;")
    with pytest.raises(MigrationError, match="NNNN_name.sql"):
        discover(tmp_path)
