"""The FTS5 BM25 channel: a sanitised MATCH over content, tags and category, filters inside the query."""

from __future__ import annotations

from typing import Any

from ..filters import Scope, search_scope
from ..fts_query import build_match

__all__ = ["candidate_filters", "fts_channel", "fts_search"]


def candidate_filters(q: dict[str, Any], params: dict[str, Any]) -> str:
    """SQL conditions on ``m`` for the search filters (kept for callers of the FTS-only search)."""
    scope = search_scope(0, q, params.get("now"))
    params.update(scope.params)
    return scope.where


def fts_search(conn: Any, scope: Scope, query: str, limit: int) -> list[tuple[int, float]]:
    """``(memory_id, score)`` best first within ``scope``; score = -bm25 (higher is better)."""
    match = build_match(query)
    if match is None or limit <= 0:
        return []
    sql = (
        "SELECT m.id, bm25(memories_fts) AS rank FROM memories_fts"
        " JOIN memories m ON m.id = memories_fts.rowid"
        " WHERE memories_fts MATCH :match AND m.user_id = :user" + scope.where + " ORDER BY rank LIMIT :limit"
    )
    return [(int(r[0]), -float(r[1])) for r in conn.execute(sql, scope.bind(match=match, limit=limit))]


def fts_channel(conn: Any, user_id: int, query: str, q: dict[str, Any], limit: int) -> list[tuple[int, float]]:
    """``(memory_id, score)`` best first for an ordinary search of ``user_id`` with filters ``q``."""
    return fts_search(conn, search_scope(user_id, q), query, limit)
