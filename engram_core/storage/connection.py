"""The ONLY place Engram opens SQLite connections.

Every connection gets the same preparation: the SQLCipher key first (when the database is encrypted),
then WAL, ``synchronous=NORMAL``, foreign keys, a busy timeout and ``secure_delete``.

One engine for both modes: every connection, plain or encrypted, goes through ``sqlcipher3`` (a drop-in
DB-API module bundling SQLCipher 4 on SQLite 3.53). Without a key SQLCipher reads and writes ordinary
SQLite files. The stdlib ``sqlite3`` (3.40 here) lacks FTS5 ``secure-delete`` (3.44+), which purge
needs to take a memory's words out of the full-text index; and once a table has it enabled, an older
FTS5 refuses to write it. One engine also means one set of behaviours to test (docs/storage-engine.md).
``PRAGMA secure_delete=ON`` zeroes deleted rows and freed pages instead of leaving them in the file.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import sqlcipher3

from ..errors import Locked

__all__ = ["connect", "is_encrypted_file", "key_pragma", "tolerate_damaged_text"]

T = TypeVar("T")

SQLITE_HEADER = b"SQLite format 3\x00"


def key_pragma(key: bytes) -> str:
    """The statement that hands a raw 32-byte key to SQLCipher (no key derivation on its side)."""
    if len(key) != 32:
        raise ValueError("a database key is exactly 32 bytes")
    return f"PRAGMA key = \"x'{key.hex()}'\""


def is_encrypted_file(path: Path) -> bool:
    """True when ``path`` exists, is non-empty and does not start with the plain SQLite header."""
    try:
        with open(path, "rb") as f:
            head = f.read(16)
    except FileNotFoundError:
        return False
    return len(head) > 0 and head != SQLITE_HEADER


def _is_plain_file(path: Path) -> bool:
    try:
        with open(path, "rb") as f:
            return f.read(16) == SQLITE_HEADER
    except FileNotFoundError:
        return False


def connect(
    path: Path | str,
    *,
    key: bytes | None = None,
    read_only: bool = False,
    busy_timeout_ms: int = 5000,
    check_same_thread: bool = False,
) -> Any:
    """Open and prepare one connection to ``path``.

    ``key`` (32 raw bytes) opens the file with SQLCipher; a wrong key raises ``Locked``. ``read_only``
    opens it with ``mode=ro`` so a read connection can never write. Connections are in autocommit mode
    (``isolation_level=None``): callers open transactions explicitly with BEGIN.
    """
    path = Path(path)
    module: Any = sqlcipher3
    if key is not None:
        if len(key) != 32:
            raise Locked(f"cannot open {path}: a database key is exactly 32 bytes, got {len(key)}")
        if _is_plain_file(path):
            raise Locked(
                f"cannot open {path} with a key: it is a plain (unencrypted) SQLite database; "
                "run `engram db encrypt` to encrypt it, or set ENGRAM_ENCRYPTION_MODE=none"
            )
    uri = f"file:{path}?mode=ro" if read_only else f"file:{path}"
    conn = module.connect(
        uri,
        uri=True,
        isolation_level=None,
        check_same_thread=check_same_thread,
        timeout=busy_timeout_ms / 1000,
    )
    try:
        if key is not None:
            # SQLCipher logs every failed page HMAC to stderr; a wrong key is reported as Locked instead.
            conn.execute("PRAGMA cipher_log_level = NONE")
            conn.execute(key_pragma(key))
        try:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except module.DatabaseError as exc:
            if key is not None:
                raise Locked(
                    f"cannot open {path}: wrong database key ({exc}); check ENGRAM_ENCRYPTION_MODE "
                    "and its key (keyfile, ENGRAM_DB_KEY or YubiKey)"
                ) from None
            raise Locked(
                f"cannot open {path}: the file is encrypted or not a database; set ENGRAM_ENCRYPTION_MODE and its key"
            ) from None
        if not read_only:
            conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        conn.execute("PRAGMA temp_store=MEMORY")
        conn.execute("PRAGMA secure_delete=ON")
    except BaseException:
        conn.close()
        raise
    conn.row_factory = module.Row
    return conn


def _lenient_text(value: bytes) -> str:
    return value.decode("utf-8", "replace")


def tolerate_damaged_text(conn: Any, fn: Callable[[Any], T], reset: Callable[[], None] | None = None) -> T:
    """Run ``fn(conn)``; if it read a stored text that is not valid UTF-8 (a row damaged before request
    bodies were decoded strictly), ``reset()`` (roll back a write) and run it again reading such text
    with U+FFFD in place of the bad bytes. Only the rare retry pays for the Python-level decoder."""
    try:
        return fn(conn)
    except Exception as exc:
        if "Could not decode to UTF-8" not in str(exc):
            raise
    if reset is not None:
        reset()
    conn.text_factory = _lenient_text
    try:
        return fn(conn)
    finally:
        conn.text_factory = str
