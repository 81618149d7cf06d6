"""Applying FSRS reviews to memory rows: one review inside the caller's transaction (``apply_review``),
and the batched implicit reviews of recalled memories (``ImplicitReviews``).

Implicit reviews: every memory a search, recall or context returns gets a Good review.
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
from ..storage.changes import RECALL
from ..storage.database import Database
from ..timeutil import parse_datetime
from .review import initial_state, refresh, review
from .state import FsrsState, Grade

__all__ = ["ImplicitReviews", "apply_review", "row_state", "write_state"]


def row_state(row: Any) -> FsrsState | None:
    """The FSRS state of a memory row, or None when the row has none yet (pre-FSRS rows)."""
    if row["fsrs_stability"] is None or row["fsrs_last_review"] is None:
        return None
    return FsrsState.from_row(row)


def write_state(conn: Any, memory_id: int, state: FsrsState) -> None:
    """Store ``state`` in the memory's FSRS columns."""
    cols = state.to_row()
    sets = ", ".join(f"{name} = ?" for name in cols)
    conn.execute(f"UPDATE memories SET {sets} WHERE id = ?", (*cols.values(), memory_id))


def apply_review(conn: Any, row: Any, grade: int, now: datetime | None = None) -> FsrsState:
    """Review the memory ``row`` with ``grade`` at ``now`` and write the new state; returns it.

    A row without an FSRS state first gets the initial Good review at its creation time.
    """
    moment = now or datetime.now(UTC)
    state = row_state(row)
    if state is None:
        state = refresh(initial_state(parse_datetime(row["created_at"], "created_at")), moment)
    new = review(state, grade, moment)
    write_state(conn, int(row["id"]), new)
    return new


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
        # cause RECALL: reviews that searches caused; the search cache does not drop its answers for them
        done = await self.db.awrite(lambda conn: _apply(conn, batch), cause=RECALL)
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
