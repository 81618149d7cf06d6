"""Row -> JSON-ready dict, and the SQL that says which memories are visible."""

from __future__ import annotations

import json
from typing import Any

__all__ = ["VISIBLE", "memory_dict"]

# A memory that reads and search see: latest version, not forgotten, not consolidated into another,
# not in the trash, not past its TTL. ``:now`` is bound by the caller.
VISIBLE = (
    "m.is_latest = 1 AND m.is_forgotten = 0 AND m.is_consolidated = 0 AND m.is_deleted = 0"
    " AND (m.forget_after IS NULL OR m.forget_after > :now)"
)


def memory_dict(r: Any, *, decay_score: float | None = None) -> dict[str, Any]:
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
        "decay_score": decay_score,
    }
