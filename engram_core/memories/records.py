"""Row -> JSON-ready dict, the SQL that says which memories are visible, and the owned-memory lookup."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from ..decay import FsrsState, decay_score
from ..storage.owned import owned_row

__all__ = ["VISIBLE", "memory_dict", "owned_memory", "row_decay_score", "visible"]

# A memory that reads and search see: latest version, not forgotten, not consolidated into another,
# not in the trash, not past its TTL. ``:now`` is bound by the caller.
VISIBLE = (
    "m.is_latest = 1 AND m.is_forgotten = 0 AND m.is_consolidated = 0 AND m.is_deleted = 0"
    " AND (m.forget_after IS NULL OR m.forget_after > :now)"
)


def visible(alias: str) -> str:
    """``VISIBLE`` for a memories table aliased ``alias`` (``:now`` is bound by the caller)."""
    return VISIBLE.replace("m.", f"{alias}.")


def owned_memory(conn: Any, user_id: int, memory_id: int, *, trashed: bool = False) -> Any:
    """The user's memory row ``memory_id`` (any version, forgotten or archived too), else NotFound.

    A memory in the trash is found only with ``trashed=True``; otherwise it is NotFound like another
    user's id, with the same message.
    """
    return owned_row(conn, "memories", user_id, memory_id, "memory", not_deleted=not trashed)


def row_decay_score(r: Any, now: datetime | None = None) -> float | None:
    """The FSRS decay score of a memory row (None for rows without an FSRS state)."""
    if r["fsrs_stability"] is None:
        return None
    state = FsrsState.from_row(r)
    return round(decay_score(state, now or datetime.now(UTC), float(r["importance"])), 6)


def memory_dict(r: Any) -> dict[str, Any]:
    """The public shape of one memory row."""
    return {
        "id": r["id"],
        "content": r["content"],
        "category": r["category"],
        "source": r["source"],
        "importance": r["importance"],
        "tags": json.loads(r["tags"]),
        "session_id": r["session_id"],
        "space_id": r["space_id"],
        "is_static": bool(r["is_static"]),
        "status": r["status"],
        "version": r["version"],
        "parent_id": r["parent_id"],
        "root_id": r["root_id"],
        "is_latest": bool(r["is_latest"]),
        "is_forgotten": bool(r["is_forgotten"]),
        "is_archived": bool(r["is_archived"]),
        "is_deleted": bool(r["is_deleted"]),
        "forget_after": r["forget_after"],
        "created_at": r["created_at"],
        "updated_at": r["updated_at"],
        "access_count": r["access_count"],
        "last_accessed_at": r["last_accessed_at"],
        "source_count": r["source_count"],
        "pagerank": r["pagerank"],
        "community": r["community"],
        "embedded": r["embedding"] is not None,
        "decay_score": row_decay_score(r),
        "fsrs": {
            "stability": r["fsrs_stability"],
            "difficulty": r["fsrs_difficulty"],
            "learning_state": r["fsrs_state"],
            "reps": r["fsrs_reps"],
            "lapses": r["fsrs_lapses"],
            "last_review_at": r["fsrs_last_review"],
        },
    }
