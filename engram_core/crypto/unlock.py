"""Startup check: decide whether the configured key opens the database, before anything else opens it.

The server calls :func:`unlock` once at startup and hands the key it returns to every ``connect``. Every
problem is a :class:`~engram_core.errors.Locked` error that says what to do; nothing here ever creates a
database, so a wrong key can never lead to a fresh empty database written over the old one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import Locked
from ..storage.connection import SQLITE_HEADER, connect
from .keys import ARGON2_DEFAULT, Argon2Params, HmacResponder, resolve_key

__all__ = ["file_state", "open_check", "unlock"]


def file_state(path: Path | str) -> str:
    """``"missing"`` (absent or empty), ``"plain"`` (SQLite header) or ``"encrypted"`` (anything else)."""
    try:
        with open(path, "rb") as f:
            head = f.read(16)
    except FileNotFoundError:
        return "missing"
    if not head:
        return "missing"
    return "plain" if head == SQLITE_HEADER else "encrypted"


def unlock(
    settings: Any,
    *,
    responder: HmacResponder | None = None,
    argon2: Argon2Params = ARGON2_DEFAULT,
) -> bytes | None:
    """Check that ``settings`` can open ``settings.db_path`` and return the key (None: plain database).

    * mode ``none`` and an encrypted file: ``Locked`` naming the setting to set;
    * a mode set and a plain file: ``Locked`` telling to run ``engram db encrypt``;
    * a key that does not open the file: ``Locked`` (wrong key);
    * a missing database: the key is returned and the caller creates the database encrypted with it.
    """
    db: Path = Path(settings.db_path)
    state = file_state(db)
    mode = settings.encryption_mode
    if mode == "none":
        if state == "encrypted":
            raise Locked(
                f"{db} is encrypted (or is not an SQLite database) but ENGRAM_ENCRYPTION_MODE is none; "
                "set ENGRAM_ENCRYPTION_MODE to keyfile, env or yubikey with its key, "
                "or run `engram db decrypt` to turn it back into a plain database"
            )
        return None
    if state == "plain":
        raise Locked(
            f"{db} is a plain (unencrypted) database but ENGRAM_ENCRYPTION_MODE is {mode}; "
            f"run `engram db encrypt --mode {mode}` to encrypt it, or set ENGRAM_ENCRYPTION_MODE=none"
        )
    key = resolve_key(settings, responder=responder, argon2=argon2)
    assert key is not None
    if state == "encrypted":
        conn = connect(db, key=key, read_only=True)
        conn.close()
    return key


def open_check(
    settings: Any,
    *,
    responder: HmacResponder | None = None,
    argon2: Argon2Params = ARGON2_DEFAULT,
) -> None:
    """Raise ``Locked`` with the fix when the configured key (or its absence) cannot open the database."""
    unlock(settings, responder=responder, argon2=argon2)
