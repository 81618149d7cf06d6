"""The FTS5 BM25 channel: a sanitised MATCH over content, tags and category, filters inside the query."""

from __future__ import annotations

from typing import Any

from ...model.fts import match_terms, query_terms
from ..filters import Scope, search_scope
from ..fts_stats import FtsStats

__all__ = ["candidate_filters", "fts_channel", "fts_search"]


def candidate_filters(q: dict[str, Any], params: dict[str, Any]) -> str:
    """SQL conditions on ``m`` for the search filters (kept for callers of the FTS-only search)."""
    scope = search_scope(0, q, params.get("now"))
    params.update(scope.params)
    return scope.where


def _joined(conn: Any, scope: Scope, match: str, limit: int) -> list[tuple[int, float]]:
    sql = (
        "SELECT m.id, bm25(memories_fts) AS rank FROM memories_fts"
        " JOIN memories m ON m.id = memories_fts.rowid"
        " WHERE memories_fts MATCH :match AND m.user_id = :user" + scope.where + " ORDER BY rank LIMIT :limit"
    )
    return [(int(r[0]), -float(r[1])) for r in conn.execute(sql, scope.bind(match=match, limit=limit))]


def _ranked_first(conn: Any, scope: Scope, match: str, limit: int) -> list[tuple[int, float]]:
    """Rank in the FTS index alone, keep what the scope allows; the join only if it filtered most out."""
    first = max(limit * 4, 64)
    ranked = conn.execute(
        "SELECT rowid, bm25(memories_fts) AS rank FROM memories_fts WHERE memories_fts MATCH :match"
        " ORDER BY rank LIMIT :first",
        {"match": match, "first": first},
    ).fetchall()
    allowed = scope.allowed(conn, [int(r[0]) for r in ranked])
    hits = [(int(r[0]), -float(r[1])) for r in ranked if int(r[0]) in allowed]
    if len(hits) >= limit or len(ranked) < first:  # enough, or every match was seen
        return hits[:limit]
    return _joined(conn, scope, match, limit)


def fts_search(
    conn: Any, scope: Scope, query: str, limit: int, stats: FtsStats | None = None
) -> list[tuple[int, float]]:
    """``(memory_id, score)`` best first within ``scope``; score = -bm25 (higher is better).

    With ``stats`` (see :mod:`~engram_core.search.fts_stats`): terms BM25 gives no weight are left out
    of the MATCH unless that leaves fewer than ``limit`` hits, and a user who owns most documents is
    ranked in the FTS index before the scope is checked.
    """
    terms = query_terms(query)
    if not terms or limit <= 0:
        return []
    full = match_terms(terms)
    assert full is not None
    if stats is None:
        return _joined(conn, scope, full, limit)
    search = _ranked_first if stats.owns_most(conn, scope.user_id) else _joined
    lean = stats.drop(conn, terms)
    if len(lean) < len(terms):
        hits = search(conn, scope, match_terms(lean) or full, limit)
        if len(hits) >= limit:
            return hits
    return search(conn, scope, full, limit)


def fts_channel(conn: Any, user_id: int, query: str, q: dict[str, Any], limit: int) -> list[tuple[int, float]]:
    """``(memory_id, score)`` best first for an ordinary search of ``user_id`` with filters ``q``."""
    return fts_search(conn, search_scope(user_id, q), query, limit)
