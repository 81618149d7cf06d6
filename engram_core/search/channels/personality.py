"""The personality channel: memories whose stated preferences, values, decisions ... match the query.

Signals are read with the scope's filters inside the SQL, pre-selected in SQL so that a large corpus is
not scored in Python: signals whose subject contains a query word (its first five letters, which covers
simple inflections), plus, for a preference-type question, the most recent preference and value signals.
:func:`engram_core.intelligence.personality.rank_memories` then scores them.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from ...intelligence.personality import Signal, rank_memories
from ..filters import Scope
from ..fts_query import query_terms

__all__ = ["personality_search"]

_MAX_TERMS = 8
_MAX_ROWS = 2000
MIN_SCORE = 0.15
"""Weaker matches are left out: in rank fusion even a weak channel reorders the strong ones' ranks."""


def personality_search(conn: Any, scope: Scope, query: str, limit: int, *, preference: bool) -> list[tuple[int, float]]:
    """``(memory_id, score)`` best first within ``scope``; ``preference``: the question asks for tastes."""
    if limit <= 0:
        return []
    terms = [t[:5] for t in query_terms(query) if len(t) >= 3][:_MAX_TERMS]
    params = scope.bind(limit=_MAX_ROWS, pref=int(preference))
    conds = ["(:pref = 1 AND s.type IN ('preference', 'value'))"]
    for i, term in enumerate(terms):
        conds.append(f"instr(lower(s.subject), :t{i}) > 0")
        params[f"t{i}"] = term
    rows = conn.execute(
        "SELECT s.memory_id, s.type, s.subject, s.text, s.intensity, s.valence FROM personality_signals s"
        " JOIN memories m ON m.id = s.memory_id WHERE s.user_id = :user AND m.user_id = :user"
        + scope.where
        + " AND ("
        + " OR ".join(conds)
        + ") ORDER BY m.created_at DESC, s.id LIMIT :limit",
        params,
    ).fetchall()
    by_memory: dict[int, list[Signal]] = defaultdict(list)
    for r in rows:
        # Matched on the subject (what the signal is about), not the whole sentence: the sentence's other
        # words (who said it, filler) would make every signal of a person match any question naming them.
        by_memory[int(r[0])].append(Signal(type=r[1], subject=r[2], text=r[2], intensity=r[4], valence=r[5]))
    return [(i, s) for i, s in rank_memories(query, by_memory, limit) if s >= MIN_SCORE]
