"""Session context: the turns stored next to a strong hit in the same session share some of its score.

A client that stores a conversation turn by turn passes the conversation's ``session_id``. A single
turn is often meaningless alone ("I've had them for 3 years now", "Something not so great happened
yesterday"): the turn before or after it names what it is about. So after fusion, each of the top
:data:`CONTEXT_SEEDS` results lends :data:`CONTEXT_SHARE` of its fused score (halved per further step)
to its neighbours within :data:`CONTEXT_WINDOW` positions in the same session: the memories of that
``session_id`` ordered by ``(created_at, id)``, i.e. in the order they happened, then were stored.

The share is added to a neighbour the other channels found too, and a neighbour they missed joins the
results as found by the ``session`` channel. Memories without a session are untouched, so this does
nothing for users who never pass ``session_id``. Neighbours are read with the scope's SQL (user,
visibility, filters): context never brings back a hidden, foreign or filtered-out memory.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from ..filters import Scope
from ..fusion import Fused

__all__ = ["CONTEXT_SEEDS", "CONTEXT_SHARE", "CONTEXT_WINDOW", "add_session_context", "session_neighbours"]

CONTEXT_SEEDS = 10
"""How many of the best fused results lend score to their session neighbours."""
CONTEXT_SHARE = 0.3
"""Fraction of a seed's fused score its immediate neighbour receives (halved per further position)."""
CONTEXT_WINDOW = 2
"""How many positions before and after a seed count as its context."""

_NEIGHBOURS = (
    "SELECT m.id FROM memories m WHERE m.user_id = :user AND m.session_id = :sid"
    " AND (m.created_at, m.id) {cmp} (:at, :id){facts}{where} ORDER BY m.created_at {order}, m.id {order} LIMIT :w"
)


def session_neighbours(
    conn: Any, scope: Scope, seeds: Sequence[int], window: int = CONTEXT_WINDOW, *, facts: bool = True
) -> dict[int, list[tuple[int, int]]]:
    """Seed id -> ``[(neighbour_id, distance)]``: up to ``window`` visible memories each side, same session.

    ``facts``: whether fact memories (``is_fact``) count as neighbours.
    """
    if not seeds or window <= 0:
        return {}
    rows = conn.execute(
        "SELECT m.id, m.session_id, m.created_at FROM json_each(:ids) j CROSS JOIN memories m ON m.id = j.value"
        " WHERE m.user_id = :user AND m.session_id IS NOT NULL",
        {"ids": json.dumps([int(i) for i in seeds]), "user": scope.user_id},
    ).fetchall()
    out: dict[int, list[tuple[int, int]]] = {}
    for seed, sid, at in rows:
        found: list[tuple[int, int]] = []
        for cmp, order in (("<", "DESC"), (">", "ASC")):
            sql = _NEIGHBOURS.format(
                cmp=cmp, order=order, where=scope.where, facts="" if facts else " AND m.is_fact = 0"
            )
            params = scope.bind(sid=sid, at=at, id=seed, w=window)
            found.extend((int(r[0]), step) for step, r in enumerate(conn.execute(sql, params), start=1))
        out[int(seed)] = found
    return out


def add_session_context(
    conn: Any,
    scope: Scope,
    fused: list[Fused[int]],
    *,
    seeds: int = CONTEXT_SEEDS,
    share: float = CONTEXT_SHARE,
    window: int = CONTEXT_WINDOW,
    facts: bool = True,
) -> tuple[list[Fused[int]], dict[int, float]]:
    """``fused`` with session context added and re-sorted, and what each memory received (id -> score).

    Seed scores are read before any neighbour receives anything, so the order of seeds does not matter
    and a seed that is itself a neighbour of another seed lends only its own fused score.
    """
    if not fused or seeds <= 0 or share <= 0:
        return fused, {}
    top = fused[:seeds]
    neighbours = session_neighbours(conn, scope, [f.id for f in top], window, facts=facts)
    if not neighbours:
        return fused, {}
    gained: dict[int, float] = defaultdict(float)
    for f in top:
        for other, step in neighbours.get(f.id, []):
            if other != f.id:
                gained[other] += f.score * share / (2 ** (step - 1))
    by_id = {f.id: f for f in fused}
    order = {f.id: n for n, f in enumerate(fused)}
    for rank, (other, amount) in enumerate(sorted(gained.items(), key=lambda p: (-p[1], p[0])), start=1):
        entry = by_id.get(other)
        if entry is None:
            entry = by_id[other] = Fused(id=other, score=0.0)
            order[other] = len(order)
        entry.ranks["session"] = rank
        entry.contributions["session"] = amount
        entry.score += amount
    ordered = sorted(by_id.values(), key=lambda f: (-f.score, -len(f.ranks), min(f.ranks.values()), order[f.id]))
    return ordered, dict(gained)
