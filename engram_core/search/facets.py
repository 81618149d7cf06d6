"""Filter-only reads for the search routes: facet counts, filtered listings and tag search."""

from __future__ import annotations

import json
from typing import Any

from ..memories.records import memory_dict
from .filters import Scope, search_scope

__all__ = ["facet_counts", "list_scope", "tag_search"]

_TOP_TAGS = 50


def facet_counts(conn: Any, scope: Scope) -> dict[str, Any]:
    """Counts by category, source, tag (top 50) and importance over every memory ``scope`` admits."""
    base = f"FROM memories m WHERE m.user_id = :user{scope.where}"
    params = scope.bind()

    def grouped(column: str) -> dict[str, int]:
        rows = conn.execute(f"SELECT {column} AS k, count(*) {base} GROUP BY k ORDER BY count(*) DESC, k", params)
        return {str(r[0]): int(r[1]) for r in rows}

    tags = conn.execute(
        "SELECT t.tag, count(*) FROM memory_tags t CROSS JOIN memories m ON m.id = t.memory_id"
        f" WHERE t.user_id = :user AND m.user_id = :user{scope.where}"
        " GROUP BY t.tag ORDER BY count(*) DESC, t.tag LIMIT :top",
        {**params, "top": _TOP_TAGS},
    )
    return {
        "total": int(conn.execute(f"SELECT count(*) {base}", params).fetchone()[0]),
        "category": grouped("m.category"),
        "source": grouped("m.source"),
        "tags": {str(r[0]): int(r[1]) for r in tags},
        "importance": grouped("m.importance"),
    }


def list_scope(conn: Any, scope: Scope, limit: int, offset: int = 0) -> list[dict[str, Any]]:
    """Memories of ``scope``, newest first."""
    rows = conn.execute(
        f"SELECT m.* FROM memories m WHERE m.user_id = :user{scope.where}"
        " ORDER BY m.created_at DESC, m.id DESC LIMIT :limit OFFSET :offset",
        scope.bind(limit=limit, offset=offset),
    )
    return [memory_dict(r) for r in rows]


def tag_search(conn: Any, user_id: int, tags: list[str], match: str, limit: int, offset: int) -> dict[str, Any]:
    """Visible memories with any (or all) of ``tags``, newest first, with the total count.

    Driven from ``memory_tags`` (the memories carrying the tags, by index), not by testing every memory.
    """
    scope = search_scope(user_id, {})
    wanted = sorted(set(tags))
    tagged = (
        "(SELECT memory_id FROM memory_tags WHERE user_id = :user AND tag IN (SELECT value FROM json_each(:tags))"
        " GROUP BY memory_id HAVING count(*) >= :need) t CROSS JOIN memories m ON m.id = t.memory_id"
        f" WHERE m.user_id = :user{scope.where}"
    )
    params = scope.bind(tags=json.dumps(wanted), need=len(wanted) if match == "all" else 1)
    total = int(conn.execute(f"SELECT count(*) FROM {tagged}", params).fetchone()[0])
    rows = conn.execute(
        f"SELECT m.* FROM {tagged} ORDER BY m.created_at DESC, m.id DESC LIMIT :limit OFFSET :offset",
        {**params, "limit": limit, "offset": offset},
    )
    results = [memory_dict(r) for r in rows]
    return {"results": results, "count": len(results), "total": total, "tags": tags, "match": match}
