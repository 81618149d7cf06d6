"""A per-process cache of authenticated API keys that a key change in any process empties at once.

Without it every request looks its key up on the read pool: ~120 us of CPU, most of it the thread hop,
and under load a wait behind the searches queued there. The cache maps a key's hash to what it resolved
to, tagged with ``auth_generation.n`` (migration 0029: triggers move it on every change to a key's
hash, scopes, rate limit, expiry or revocation, a key or user deleted, a user's admin flag) as read in
the lookup's own snapshot. A hit is valid only while that counter still reads the same, whichever
process or connection committed the change: ``engram keys revoke`` run elsewhere, or a second server
on the same file, is seen by the very next request.

The check runs on the caller's thread (the event loop) on the cache's own read-only connection: one
``PRAGMA data_version``, which changes only when another connection has committed (microseconds), and
the one-row counter read only when it did. A key's expiry is checked against the clock on every hit.
Any SQLite error during the check (a busy database) empties the cache: the request then takes the
ordinary lookup on the read pool. Failed lookups are never cached.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .context import AuthContext

__all__ = ["KeyCache", "read_generation"]

log = logging.getLogger("engram.auth")


def read_generation(conn: Any) -> int:
    """The current auth generation (inside the caller's read snapshot)."""
    return int(conn.execute("SELECT n FROM auth_generation").fetchone()[0])


@dataclass(frozen=True)
class _Entry:
    auth: AuthContext
    expires_at: str | None
    generation: int


class KeyCache:
    """Resolved keys by hash, valid while the auth generation stands; ``connect()`` opens the cache's
    own read-only connection (lazily, on first use)."""

    def __init__(self, connect: Callable[[], Any], *, max_keys: int = 10_000) -> None:
        self._connect = connect
        self.max_keys = max_keys
        self._conn: Any = None
        self._version: int | None = None
        self._generation: int | None = None
        self._entries: dict[str, _Entry] = {}
        self._lock = threading.Lock()
        self.hits = 0

    def _current(self) -> int | None:
        """The auth generation now (None: could not tell; the cache is emptied). Holds the lock."""
        try:
            if self._conn is None:
                self._conn = self._connect()
            version = int(self._conn.execute("PRAGMA data_version").fetchone()[0])
            if version != self._version or self._generation is None:
                self._generation, self._version = read_generation(self._conn), version
        except Exception as exc:  # a busy or closed database: take the ordinary lookup
            log.debug("key cache check failed, looking keys up on the read pool: %s", exc)
            self._entries.clear()
            self._version = self._generation = None
            return None
        return self._generation

    def get(self, key_hash: str, now: str) -> AuthContext | None:
        """The cached resolution of ``key_hash`` if no key changed since and it has not expired."""
        with self._lock:
            entry = self._entries.get(key_hash)
            if entry is None:
                return None
            if entry.generation != self._current() or (entry.expires_at is not None and entry.expires_at <= now):
                self._entries.pop(key_hash, None)
                return None
            self.hits += 1
            return entry.auth

    def put(self, key_hash: str, auth: AuthContext, expires_at: str | None, generation: int) -> None:
        """Remember a successful lookup made in a snapshot whose auth generation was ``generation``."""
        with self._lock:
            if len(self._entries) >= self.max_keys:
                self._entries.clear()
            self._entries[key_hash] = _Entry(auth, expires_at, generation)
