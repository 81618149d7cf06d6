"""Key usage: ``api_keys.last_used_at``, written at most once per key per interval.

A key that authenticates is marked used. The write is one small transaction handed to the database's
write thread and never awaited: the request does not wait for it, and a failure is logged, never raised.
A busy key costs one write per ``interval`` seconds (60 by default): :class:`KeyUsage` remembers, per key
id, when it last wrote. The map only holds keys that authenticated; beyond ``max_keys`` entries, those
whose interval has passed (they carry no information) are dropped.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from ..storage.database import Database
from ..timeutil import now_iso

__all__ = ["KeyUsage", "mark_used"]

log = logging.getLogger("engram.auth")

Clock = Callable[[], float]


def mark_used(conn: Any, user_id: int, key_id: int, at: str) -> None:
    """Set the key's ``last_used_at`` to ``at`` (inside a write transaction); never moves it backwards."""
    conn.execute(
        "UPDATE api_keys SET last_used_at = ? WHERE id = ? AND user_id = ?"
        " AND (last_used_at IS NULL OR last_used_at < ?)",
        (at, key_id, user_id, at),
    )


class KeyUsage:
    """Throttled ``last_used_at`` writes: at most one per key per ``interval`` seconds of ``clock`` time."""

    def __init__(
        self, db: Database, *, interval: float = 60.0, clock: Clock = time.monotonic, max_keys: int = 10_000
    ) -> None:
        self.db = db
        self.interval = interval
        self.clock = clock
        self.max_keys = max_keys
        self._written: dict[int, float] = {}
        self._lock = threading.Lock()

    def _due(self, key_id: int) -> bool:
        """True (and the key's write time taken) when the key has not been written within the interval."""
        now = self.clock()
        with self._lock:
            last = self._written.get(key_id)
            if last is not None and now - last < self.interval:
                return False
            self._written[key_id] = now
            if len(self._written) > self.max_keys:
                self._written = {k: t for k, t in self._written.items() if now - t < self.interval}
            return True

    def touch(self, user_id: int, key_id: int) -> Future[None] | None:
        """Mark the key used, unless it was within the interval. Returns the queued write (None: skipped)."""
        if not self._due(key_id):
            return None
        at = now_iso()
        try:
            fut = self.db.submit_write(lambda conn: mark_used(conn, user_id, key_id, at))
        except Exception as exc:  # a closed database (shutting down): a usage stamp never fails a request
            log.debug("could not queue last_used_at for key %s: %s", key_id, exc)
            self._forget(key_id)
            return None
        fut.add_done_callback(lambda f: self._done(f, key_id))
        return fut

    def _forget(self, key_id: int) -> None:
        """The stamp was not written: let the key's next authentication try again."""
        with self._lock:
            self._written.pop(key_id, None)

    def _done(self, fut: Future[None], key_id: int) -> None:
        exc = None if fut.cancelled() else fut.exception()
        if exc is not None:
            log.error("could not write last_used_at for key %s", key_id, exc_info=exc)
            self._forget(key_id)
