"""Near-duplicate detection on store: SimHash against the user's recent latest memories."""

from __future__ import annotations

from typing import Any

from ..auth import audit
from ..auth.context import AuthContext
from ..timeutil import now_iso
from .simhash import find_duplicate

__all__ = ["RECENT_WINDOW", "find_recent_duplicate", "boost_duplicate"]

# How many of the user's newest memories a store is compared with (a scan of ints: ~0.2 ms per 1000).
RECENT_WINDOW = 2000


def find_recent_duplicate(conn: Any, user_id: int, fp: int, max_distance: int) -> tuple[int, int] | None:
    """``(existing_id, distance)`` of the nearest recent visible memory within ``max_distance``, or None."""
    if max_distance < 0:
        return None
    rows = conn.execute(
        "SELECT id, simhash FROM memories WHERE user_id = ? AND is_latest = 1 AND is_deleted = 0"
        " AND is_forgotten = 0 AND simhash IS NOT NULL ORDER BY id DESC LIMIT ?",
        (user_id, RECENT_WINDOW),
    ).fetchall()
    return find_duplicate(fp, ((r[0], r[1]) for r in rows), max_distance=max_distance)


def boost_duplicate(conn: Any, auth: AuthContext, existing_id: int, distance: int) -> None:
    """Count another sighting of an existing memory instead of storing a copy."""
    conn.execute(
        "UPDATE memories SET source_count = source_count + 1, updated_at = ? WHERE id = ?", (now_iso(), existing_id)
    )
    audit.record(conn, auth, "memory.duplicate", "memory", existing_id, {"distance": distance})
