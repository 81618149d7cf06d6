"""Implicit reviews: every memory a search, recall or context returns gets a Good review, batched.

``ImplicitReviews.add`` is cheap and thread-safe (called on the request path); ``flush`` applies the
pending reviews in one write transaction (called by a scheduler task every few seconds and on stop).
A memory recalled several times within one flush window is reviewed once, at its first recall.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from ..auth import audit
from ..storage.database import Database
from .apply import apply_review
from .state import Grade

__all__ = ["ImplicitReviews"]


class ImplicitReviews:
    """A pending set of (user, memory) recalls, flushed as Good reviews in one transaction."""

    def __init__(self, db: Database, *, max_pending: int = 100_000) -> None:
        self.db = db
        self.max_pending = max_pending
        self._pending: dict[tuple[int, int], datetime] = {}
        self._lock = threading.Lock()
        self.applied = 0

    def add(self, user_id: int, memory_ids: Iterable[int]) -> None:
        """Queue a Good review of each of ``memory_ids`` (the user's) at the current time."""
        now = datetime.now(UTC)
        with self._lock:
            for mid in memory_ids:
                if len(self._pending) >= self.max_pending:
                    break
                self._pending.setdefault((user_id, int(mid)), now)

    def pending(self) -> int:
        """How many reviews wait for the next flush."""
        with self._lock:
            return len(self._pending)

    async def flush(self) -> int:
        """Apply every pending review in one write transaction; returns how many were applied."""
        with self._lock:
            batch, self._pending = self._pending, {}
        if not batch:
            return 0
        done = await self.db.awrite(lambda conn: _apply(conn, batch))
        self.applied += done
        return done


def _apply(conn: Any, batch: dict[tuple[int, int], datetime]) -> int:
    per_user: dict[int, int] = {}
    for (user_id, memory_id), at in sorted(batch.items(), key=lambda item: item[1]):
        row = conn.execute(
            "SELECT * FROM memories WHERE id = ? AND user_id = ? AND is_deleted = 0", (memory_id, user_id)
        ).fetchone()
        if row is None:
            continue
        apply_review(conn, row, Grade.GOOD, at)
        per_user[user_id] = per_user.get(user_id, 0) + 1
    for user_id, count in per_user.items():
        audit.record(conn, None, "fsrs.implicit_review", "memory", None, {"count": count}, user_id=user_id)
    return sum(per_user.values())
