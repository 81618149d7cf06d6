"""The FTS5 BM25 channel: a sanitised MATCH over content, tags and category, filters inside the query."""

from __future__ import annotations

from typing import Any

from ...timeutil import now_iso
from ..fts_query import build_match

__all__ = ["candidate_filters", "fts_channel"]

def candidate_filters(q: dict[str, Any], params: dict[str, Any]) -> str:
    """SQL conditions on ``m`` for the search filters; every channel uses the same ones."""
    sql = " AND m.is_deleted = 0 AND m.is_consolidated = 0 AND m.status = 'approved'"
    sql += " AND (m.forget_after IS NULL OR m.forget_after > :now)"
    params.setdefault("now", now_iso())
    if q.get("latest_only", True):
        sql += " AND m.is_latest = 1"
    if not q.get("include_forgotten"):
        sql += " AND m.is_forgotten = 0"
    if not q.get("include_archived"):
        sql += " AND m.is_archived = 0"
    for name in ("category", "source", "space_id"):
        if q.get(name) is not None:
            sql += f" AND m.{name} = :f_{name}"
            params[f"f_{name}"] = q[name]
    for i, tag in enumerate(q.get("tags") or []):
        sql += f" AND EXISTS (SELECT 1 FROM json_each(m.tags) WHERE json_each.value = :f_tag{i})"
        params[f"f_tag{i}"] = tag
    if q.get("before"):
        sql += " AND m.created_at < :f_before"
        params["f_before"] = q["before"]
    if q.get("after"):
        sql += " AND m.created_at >= :f_after"
        params["f_after"] = q["after"]
    return sql


def fts_channel(conn: Any, user_id: int, query: str, q: dict[str, Any], limit: int) -> list[tuple[int, float]]:
    """``(memory_id, score)`` best first; score = -bm25 (higher is better)."""
    match = build_match(query)
    if match is None:
        return []
    params: dict[str, Any] = {"user": user_id, "match": match, "limit": limit}
    sql = (
        "SELECT m.id, bm25(memories_fts) AS rank FROM memories_fts JOIN memories m ON m.id = memories_fts.rowid"
        " WHERE memories_fts MATCH :match AND m.user_id = :user" + candidate_filters(q, params) +
        " ORDER BY rank LIMIT :limit"
    )  # fmt: skip
    return [(int(r[0]), -float(r[1])) for r in conn.execute(sql, params)]
