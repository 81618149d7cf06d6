"""Applying FSRS reviews to memory rows, inside the caller's write transaction."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from .review import initial_state, refresh, review
from .state import FsrsState, parse_utc

__all__ = ["apply_review", "row_state", "write_state"]


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
        state = refresh(initial_state(parse_utc(row["created_at"], "created_at")), moment)
    new = review(state, grade, moment)
    write_state(conn, int(row["id"]), new)
    return new
