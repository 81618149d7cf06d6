"""Offline database operations: encrypt, decrypt, rekey, backup, verify.

Conversions never touch the original until a verified copy exists:

1. *quiesce*: checkpoint the WAL into the main file and switch to rollback-journal mode. This needs the
   only connection, so a running server makes it fail with "in use" instead of racing it;
2. write the converted copy to ``<db>.convert.tmp`` (``sqlcipher_export`` for plain <-> encrypted, because
   the backup API cannot cross modules or keys; ``PRAGMA rekey`` on a copy for a key change);
3. verify the copy: ``integrity_check`` (plus ``cipher_integrity_check`` when encrypted), the same row count
   in every table and the same ``user_version``;
4. keep the original as ``<db>.<plain|encrypted|rekey>.bak`` (a hard link when possible), swap the copy in
   with ``os.replace`` (atomic), open it again with the new key, then drop the ``.bak`` unless asked to keep
   it.
   If the reopen fails the original is put back.

``sqlcipher3`` and stdlib ``sqlite3`` connections never meet: conversions run on one sqlcipher3 connection
that ATTACHes the other file (``KEY ''`` for a plain one). ``conn.backup`` is only used between two
connections of the same module with the same key.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import DbOpError, Locked
from ..storage.connection import connect
from .keys import file_state

__all__ = [
    "DbOpError",
    "OpResult",
    "backup_database",
    "decrypt_database",
    "encrypt_database",
    "integrity_problems",
    "quiesce",
    "rekey_database",
    "table_counts",
    "verify_database",
]


@dataclass
class OpResult:
    """What an operation did: the file it produced and the row count of every table in it."""

    path: Path
    tables: dict[str, int] = field(default_factory=dict)
    user_version: int = 0
    backup: Path | None = None

    @property
    def rows(self) -> int:
        return sum(self.tables.values())


def _sidecars(path: Path) -> list[Path]:
    return [path.with_name(path.name + s) for s in ("-wal", "-shm", "-journal")]


def _remove(path: Path) -> None:
    for p in (path, *_sidecars(path)):
        with contextlib.suppress(FileNotFoundError):
            p.unlink()


def fsync_dir(path: Path) -> None:
    fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_file(path: Path) -> None:
    with open(path, "rb") as f:
        os.fsync(f.fileno())


def table_counts(conn: Any, schema: str = "main") -> dict[str, int]:
    """Row count of every ordinary table of ``schema`` (virtual tables are counted through their shadows)."""
    rows = conn.execute(
        f"SELECT name, sql FROM {schema}.sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    ).fetchall()
    counts: dict[str, int] = {}
    for name, sql in rows:
        if (sql or "").lstrip().upper().startswith("CREATE VIRTUAL"):
            continue
        quoted = '"' + name.replace('"', '""') + '"'
        counts[name] = int(conn.execute(f"SELECT count(*) FROM {schema}.{quoted}").fetchone()[0])
    return counts


def integrity_problems(conn: Any, *, encrypted: bool) -> list[str]:
    """Problems reported by ``cipher_integrity_check`` (encrypted only) and ``integrity_check``.

    Empty when healthy. A page that cannot even be read is reported as a problem, not raised.
    """
    problems: list[str] = []
    checks = (["PRAGMA cipher_integrity_check"] if encrypted else []) + ["PRAGMA integrity_check"]
    for pragma in checks:
        try:
            rows = conn.execute(pragma).fetchall()
        except Exception as exc:  # sqlite3 / sqlcipher3 DatabaseError: "database disk image is malformed"
            problems.append(f"{pragma.split()[1]}: {exc}")
            continue
        problems += [str(r[0]) for r in rows if r[0] != "ok"]
    return problems


def _user_version(conn: Any, schema: str = "main") -> int:
    return int(conn.execute(f"PRAGMA {schema}.user_version").fetchone()[0])


def quiesce(db: Path | str, key: bytes | None) -> None:
    """Checkpoint the WAL and switch ``db`` to rollback-journal mode, leaving one self-contained file.

    Fails with ``DbOpError`` when another connection (a running server) holds the database.
    """
    db = Path(db)
    conn = connect(db, key=key, busy_timeout_ms=2000)
    try:
        busy = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
        mode = conn.execute("PRAGMA journal_mode=DELETE").fetchone()[0]
    except Exception as exc:
        raise DbOpError(f"{db} is in use ({exc}); stop the Engram server first") from None
    finally:
        conn.close()
    if busy or str(mode).lower() != "delete" or any(p.exists() for p in _sidecars(db)[:2]):
        raise DbOpError(f"{db} is in use by another process; stop the Engram server first")


def _verify_copy(path: Path, key: bytes | None, expected: dict[str, int], user_version: int) -> None:
    conn = connect(path, key=key, read_only=True)
    try:
        problems = integrity_problems(conn, encrypted=key is not None)
        if problems:
            found = "; ".join(problems[:5])
            raise DbOpError(f"the converted copy {path} failed its integrity check: {found}")
        counts = table_counts(conn)
        version = _user_version(conn)
    finally:
        conn.close()
    if counts != expected:
        diff = sorted(n for n in set(counts) | set(expected) if counts.get(n) != expected.get(n))
        raise DbOpError(f"the converted copy {path} has different row counts in: {', '.join(diff)}")
    if version != user_version:
        raise DbOpError(f"the converted copy {path} has user_version {version}, expected {user_version}")


def _source_facts(db: Path, key: bytes | None) -> tuple[dict[str, int], int]:
    conn = connect(db, key=key, read_only=True)
    try:
        return table_counts(conn), _user_version(conn)
    finally:
        conn.close()


def _swap_in(
    db: Path, tmp: Path, *, new_key: bytes | None, bak_suffix: str, keep: bool, expected: dict[str, int]
) -> Path | None:
    """Replace ``db`` by the verified ``tmp`` atomically; keep the original as a .bak until it reopens."""
    bak = db.with_name(db.name + bak_suffix)
    if bak.exists():
        raise DbOpError(f"{bak} exists already (left by an earlier run?); move it away first")
    os.chmod(tmp, stat.S_IMODE(db.stat().st_mode))
    _fsync_file(tmp)
    try:
        os.link(db, bak)
    except OSError:
        shutil.copy2(db, bak)
    os.replace(tmp, db)
    fsync_dir(db)
    try:
        conn = connect(db, key=new_key)
        try:
            counts = table_counts(conn)
        finally:
            conn.close()
        if counts != expected:
            raise DbOpError(f"{db} reopened with different row counts")
    except Exception:
        _remove(db)
        os.replace(bak, db)
        fsync_dir(db)
        raise
    if keep:
        return bak
    bak.unlink()
    fsync_dir(db)
    return None


def _require(db: Path, state: str, hint: str) -> None:
    actual = file_state(db)
    if actual == "missing":
        raise DbOpError(f"{db} does not exist (or is empty)")
    if actual != state:
        raise DbOpError(f"{db} is {actual}, not {state}: {hint}")


def _convert(
    db: Path,
    old_key: bytes | None,
    new_key: bytes | None,
    write_copy: Callable[[Path, int], None],
    *,
    bak_suffix: str,
    keep: bool = False,
) -> OpResult:
    """The conversion steps of the module docstring; ``write_copy(tmp, user_version)`` writes step 2's copy."""
    quiesce(db, old_key)
    counts, version = _source_facts(db, old_key)
    tmp = db.with_name(db.name + ".convert.tmp")
    _remove(tmp)
    try:
        write_copy(tmp, version)
        _verify_copy(tmp, new_key, counts, version)
        bak = _swap_in(db, tmp, new_key=new_key, bak_suffix=bak_suffix, keep=keep, expected=counts)
    finally:
        _remove(tmp)
    return OpResult(db, counts, version, bak)


def encrypt_database(db: Path | str, key: bytes, *, keep_plain: bool = False) -> OpResult:
    """Turn the plain database ``db`` into an encrypted one under ``key`` (see the module docstring)."""
    db = Path(db)
    _require(db, "plain", "nothing to encrypt")

    def export(tmp: Path, version: int) -> None:
        with contextlib.closing(connect(tmp, key=key)) as conn:
            conn.execute("PRAGMA journal_mode=DELETE")
            conn.execute("ATTACH DATABASE ? AS src KEY ''", (f"{db.absolute().as_uri()}?mode=ro",))
            conn.execute("SELECT sqlcipher_export('main', 'src')")
            conn.execute("DETACH DATABASE src")
            conn.execute(f"PRAGMA main.user_version = {version}")

    return _convert(db, None, key, export, bak_suffix=".plain.bak", keep=keep_plain)


def decrypt_database(db: Path | str, key: bytes, *, keep_encrypted: bool = False) -> OpResult:
    """Turn the encrypted database ``db`` back into a plain SQLite file."""
    db = Path(db)
    _require(db, "encrypted", "nothing to decrypt")

    def export(tmp: Path, version: int) -> None:
        with contextlib.closing(connect(db, key=key, read_only=True)) as conn:
            conn.execute("ATTACH DATABASE ? AS dst KEY ''", (str(tmp),))
            conn.execute("SELECT sqlcipher_export('dst')")
            conn.execute(f"PRAGMA dst.user_version = {version}")
            conn.execute("DETACH DATABASE dst")

    return _convert(db, key, None, export, bak_suffix=".encrypted.bak", keep=keep_encrypted)


def rekey_database(db: Path | str, old_key: bytes, new_key: bytes) -> OpResult:
    """Re-encrypt ``db`` under ``new_key`` with ``PRAGMA rekey`` (run on a verified copy, then swapped in)."""
    db = Path(db)
    _require(db, "encrypted", "use `engram db encrypt` for a plain database")
    if old_key == new_key:
        raise DbOpError("the new key is the same as the current key")

    def rekey(tmp: Path, version: int) -> None:
        shutil.copyfile(db, tmp)
        with contextlib.closing(connect(tmp, key=old_key)) as conn:
            conn.execute("PRAGMA journal_mode=DELETE")
            conn.execute(f"PRAGMA rekey = \"x'{new_key.hex()}'\"")

    return _convert(db, old_key, new_key, rekey, bak_suffix=".rekey.bak")


def backup_database(db: Path | str, dest: Path | str, key: bytes | None = None) -> OpResult:
    """Consistent online copy of ``db`` to the new file ``dest`` with the backup API, encrypted like ``db``.

    Safe while the server runs. ``dest`` gets mode 0600; a YubiKey ``<db>.challenge`` is copied beside it.
    """
    db, dest = Path(db), Path(dest)
    if file_state(db) == "missing":
        raise DbOpError(f"{db} does not exist (or is empty)")
    if dest.exists():
        raise DbOpError(f"{dest} exists already; choose a new backup path")
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".partial")
    _remove(tmp)
    try:
        src = connect(db, key=key)  # read-write only so that closing it tidies -wal/-shm; it never writes
        try:
            dst = connect(tmp, key=key)
            try:
                src.backup(dst)
                dst.execute("PRAGMA journal_mode=DELETE")
            finally:
                dst.close()
        finally:
            src.close()
        os.chmod(tmp, 0o600)
        version = _source_facts(tmp, key)[1]
        result = verify_database(tmp, key)
        _fsync_file(tmp)
        os.replace(tmp, dest)
        fsync_dir(dest)
    finally:
        _remove(tmp)
    challenge = db.with_name(db.name + ".challenge")
    if key is not None and challenge.exists():
        shutil.copy2(challenge, dest.with_name(dest.name + ".challenge"))
    return OpResult(dest, result.tables, version)


def verify_database(db: Path | str, key: bytes | None = None) -> OpResult:
    """Run the integrity checks on ``db``; ``DbOpError`` lists the problems found. Never writes data."""
    db = Path(db)
    state = file_state(db)
    if state == "missing":
        raise DbOpError(f"{db} does not exist (or is empty)")
    if state == "encrypted" and key is None:
        raise Locked(f"{db} is encrypted; set ENGRAM_ENCRYPTION_MODE and its key to verify it")
    conn = connect(db, key=key)  # not read_only: a read-only close would leave -wal/-shm files behind
    try:
        problems = integrity_problems(conn, encrypted=key is not None)
        if problems:
            raise DbOpError(f"{db} failed its integrity check: {'; '.join(problems[:10])}")
        counts = table_counts(conn)
        version = _user_version(conn)
    finally:
        conn.close()
    return OpResult(db, counts, version)
