"""The FTS5 BM25 channel: a sanitised MATCH over content, tags and category, filters inside the query."""

from __future__ import annotations

from typing import Any

from ..common_terms import CommonTerms
from ..filters import Scope, search_scope
from ..fts_query import match_terms, query_terms

__all__ = ["candidate_filters", "fts_channel", "fts_search"]


def candidate_filters(q: dict[str, Any], params: dict[str, Any]) -> str:
    """SQL conditions on ``m`` for the search filters (kept for callers of the FTS-only search)."""
    scope = search_scope(0, q, params.get("now"))
    params.update(scope.params)
    return scope.where


def fts_search(
    conn: Any, scope: Scope, query: str, limit: int, common: CommonTerms | None = None
) -> list[tuple[int, float]]:
    """``(memory_id, score)`` best first within ``scope``; score = -bm25 (higher is better).

    With ``common``, terms BM25 gives no weight (in half of the documents or more) are left out of the
    MATCH: same scores, without ranking every document that contains them (see ``common_terms``).
    """
    terms = query_terms(query)
    if common is not None:
        terms = common.drop(conn, terms)
    match = match_terms(terms)
    if match is None or limit <= 0:
        return []
    # First rank in the FTS index alone and keep what the scope allows: ranking does not depend on the
    # memory row, and joining every match to its (large) row was half the cost of a common-word query.
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
    # The scope filtered most of them out (other users' memories, a selective filter): rank within it.
    sql = (
        "SELECT m.id, bm25(memories_fts) AS rank FROM memories_fts"
        " JOIN memories m ON m.id = memories_fts.rowid"
        " WHERE memories_fts MATCH :match AND m.user_id = :user" + scope.where + " ORDER BY rank LIMIT :limit"
    )
    return [(int(r[0]), -float(r[1])) for r in conn.execute(sql, scope.bind(match=match, limit=limit))]


def fts_channel(conn: Any, user_id: int, query: str, q: dict[str, Any], limit: int) -> list[tuple[int, float]]:
    """``(memory_id, score)`` best first for an ordinary search of ``user_id`` with filters ``q``."""
    return fts_search(conn, search_scope(user_id, q), query, limit)
