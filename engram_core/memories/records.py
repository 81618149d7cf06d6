"""A memory row -> its public JSON-ready dict (with the FSRS decay score).

Which rows are visible and the owned-memory lookup are the shared vocabulary in :mod:`engram_core.model`."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from ..decay import FsrsState, decay_score

__all__ = ["memory_dict", "row_decay_score"]


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
