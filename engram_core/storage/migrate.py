"""Migration runner over ``migrations/NNNN_name.sql``.

Each file is split into statements (``sqlite3.complete_statement`` tells where a statement ends, so
triggers with inner semicolons stay whole) and applied in one transaction. The runner records name,
SHA-256 checksum and applied_at in ``schema_migrations``; an applied file whose checksum changed is
refused with ``MigrationError`` rather than silently drifting.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import MigrationError
from ..timeutil import now_iso

__all__ = ["Migration", "apply_migrations", "discover", "migrations_dir", "split_statements"]

_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
_FOREIGN_KEYS_OFF = re.compile(r"PRAGMA\s+foreign_keys\s*=\s*(OFF|0|false)\s*;?", re.IGNORECASE)


@dataclass(frozen=True)
class Migration:
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode("utf-8")).hexdigest()


def migrations_dir() -> Path:
    """Where the shipped migrations are: package data in a wheel, ``migrations/`` in a checkout."""
    here = Path(__file__).resolve().parent.parent
    for candidate in (here / "_migrations", here.parent / "migrations"):
        if candidate.is_dir():
            return candidate
    raise MigrationError("cannot find the migrations directory")


def discover(directory: Path | None = None) -> list[Migration]:
    """Every ``NNNN_name.sql`` in order. Duplicate numbers are an error."""
    directory = directory or migrations_dir()
    found: list[Migration] = []
    seen: set[str] = set()
    for path in sorted(directory.glob("*.sql")):
        m = _NAME.match(path.name)
        if not m:
            raise MigrationError(f"migration file {path.name!r} is not named NNNN_name.sql")
        if m.group(1) in seen:
            raise MigrationError(f"two migrations are numbered {m.group(1)}")
        seen.add(m.group(1))
        found.append(Migration(path.name, path.read_text(encoding="utf-8")))
    return found


def split_statements(sql: str) -> list[str]:
    """Split a script into complete statements, keeping trigger bodies whole."""
    statements: list[str] = []
    buffer = ""
    for line in sql.splitlines(keepends=True):
        if not buffer and (not line.strip() or line.lstrip().startswith("--")):
            continue
        buffer += line
        if sqlite3.complete_statement(buffer):
            statements.append(buffer.strip())
            buffer = ""
    if buffer.strip():
        # Only comments or whitespace may trail the last statement.
        rest = "\n".join(ln for ln in buffer.splitlines() if not ln.strip().startswith("--")).strip()
        if rest:
            raise MigrationError(f"incomplete SQL statement at the end: {rest[:80]!r}")
    return statements


def apply_migrations(conn: Any, directory: Path | None = None) -> list[str]:
    """Apply every pending migration; return the names applied. ``conn`` is in autocommit mode."""
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " name TEXT PRIMARY KEY, checksum TEXT NOT NULL, applied_at TEXT NOT NULL)"
    )
    applied = {row[0]: row[1] for row in conn.execute("SELECT name, checksum FROM schema_migrations")}
    done: list[str] = []
    for migration in discover(directory):
        if migration.name in applied:
            if applied[migration.name] != migration.checksum:
                raise MigrationError(
                    f"migration {migration.name} was edited after it was applied "
                    f"(recorded checksum {applied[migration.name][:12]}, file now {migration.checksum[:12]}); "
                    "restore the original file and add a new numbered migration instead"
                )
            continue
        statements = split_statements(migration.sql)
        # A migration that rebuilds a table opens with PRAGMA foreign_keys = OFF (SQLite's documented way:
        # with them on, dropping the old table would cascade its deletes into every child table). The
        # pragma only takes effect outside a transaction; the foreign keys are checked before COMMIT.
        keys_off = bool(statements) and _FOREIGN_KEYS_OFF.fullmatch(statements[0]) is not None
        if keys_off:
            statements = statements[1:]
            conn.execute("PRAGMA foreign_keys = OFF")
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in statements:
                conn.execute(statement)
            if keys_off and conn.execute("PRAGMA foreign_key_check").fetchone() is not None:
                raise MigrationError(f"migration {migration.name} broke a foreign key (PRAGMA foreign_key_check)")
            conn.execute(
                "INSERT INTO schema_migrations (name, checksum, applied_at) VALUES (?, ?, ?)",
                (migration.name, migration.checksum, now_iso()),
            )
            conn.execute("COMMIT")
        except Exception as exc:
            conn.execute("ROLLBACK")
            if isinstance(exc, MigrationError):
                raise
            raise MigrationError(f"migration {migration.name} failed: {exc}") from exc
        finally:
            if keys_off:
                conn.execute("PRAGMA foreign_keys = ON")
        done.append(migration.name)
    return done
