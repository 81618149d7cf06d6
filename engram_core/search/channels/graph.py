"""The graph channel: memories linked to the best candidates of the other channels.

From the top fused seeds (each carrying its fused score, normalised so the best seed is 1.0), links are
followed in both directions over ``memory_links``:

* 1 hop: ``seed_weight x type_weight x link_weight x pagerank_factor``
* 2 hops: the same product along both edges, times :data:`SECOND_HOP` (``Tuning.second_hop``).

Type weights are the graph ranking's (:func:`engram_core.graph.rank.edge_weight`): ``caused_by`` 2.0,
``updates``/``corrects`` 1.5, ``extends``/``contradicts`` 1.3, any other type 1.0; a link without a
positive weight counts as 1.0. ``pagerank_factor`` is ``0.5 + pagerank`` when the graph has been ranked (PageRank is
max-normalised, 0..1, by the cognitive core) and 1.0 before that. A neighbour's score is the sum over
every path that reaches it, so a memory tied to several seeds ranks higher. Neighbours are filtered by
the scope's SQL (user, visibility, filters), so a link never leaks a hidden or foreign memory.

The links themselves come from the user's in-memory adjacency (:mod:`engram_core.graph.adjacency`) when the
caller passes it, else from ``memory_links`` through SQL; the two give identical results.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Collection, Mapping
from typing import Any

from ...graph.adjacency import UserLinks, link_factor
from ..filters import Scope

__all__ = ["SECOND_HOP", "graph_search"]

SECOND_HOP = 0.5
_MAX_EDGES = 5000


def _edges(
    conn: Any, user_id: int, ids: list[int], links: UserLinks | None, cap: int = _MAX_EDGES
) -> list[tuple[int, int, float]]:
    """(from, to, weight) for every link touching ``ids``, both directions, from the ``ids`` side.

    From the user's in-memory links when given (:mod:`engram_core.graph.adjacency`: the same list, in the
    same order, without reading ~1,200 rows a search), else from SQL. At most ``cap`` link rows in all."""
    if not ids:
        return []
    if links is not None:
        with links.lock:
            return links.edges(ids, cap)
    # ``+l.user_id``: keep SQLite on the source/target indexes (the user index would scan every link).
    # The rows come by ``idx_links_source_type`` (source, type, rowid), then ``idx_links_target`` (target,
    # rowid): the adjacency keeps that order, so both paths sum the same floats in the same order.
    rows = conn.execute(
        "SELECT l.source_id, l.target_id, l.link_type, l.weight FROM json_each(:ids) j"
        " CROSS JOIN memory_links l ON l.source_id = j.value WHERE +l.user_id = :user"
        " UNION ALL SELECT l.source_id, l.target_id, l.link_type, l.weight FROM json_each(:ids) j"
        " CROSS JOIN memory_links l ON l.target_id = j.value WHERE +l.user_id = :user LIMIT :cap",
        {"user": user_id, "ids": json.dumps(ids), "cap": cap},
    ).fetchall()
    wanted = set(ids)
    out: list[tuple[int, int, float]] = []
    append = out.append
    # The type's multiplier once per link type, not per row (``edge_weight`` per row was ~0.3 ms a search).
    multipliers: dict[Any, float] = {}
    for src, dst, kind, weight in rows:
        w = link_factor(kind, weight, multipliers)
        if src in wanted:
            append((src, dst, w))
        if dst in wanted:
            append((dst, src, w))
    return out


def _visible(conn: Any, scope: Scope, ids: list[int]) -> dict[int, float]:
    """Visible ids of the scope -> their pagerank factor."""
    rows = conn.execute(
        "SELECT m.id, m.pagerank FROM json_each(:ids) j CROSS JOIN memories m ON m.id = j.value"
        " WHERE m.user_id = :user" + scope.where,
        scope.bind(ids=json.dumps(ids)),
    ).fetchall()
    return {int(r[0]): (0.5 + min(1.0, float(r[1]))) if r[1] and r[1] > 0 else 1.0 for r in rows}


def graph_search(
    conn: Any,
    scope: Scope,
    seeds: Mapping[int, float],
    limit: int,
    exclude: Collection[int] = (),
    second_hop: float = SECOND_HOP,
    links: UserLinks | None = None,
) -> list[tuple[int, float]]:
    """``(memory_id, score)`` best first: neighbours (1 and 2 hops) of ``seeds`` (id -> weight).

    ``exclude``: ids the other channels already found. The graph channel adds what they missed; it does
    not re-score their hits (similarity links are made from the same vectors, so a link between two vector
    hits would count the same evidence twice, and in rank fusion it reorders the strong channels' ranks).
    ``links``: the user's in-memory links (synced by the caller), or None to read them from SQL.
    """
    if not seeds or limit <= 0:
        return []
    top = max(seeds.values()) or 1.0
    seed_w = {i: w / top for i, w in seeds.items()}
    first: dict[int, float] = defaultdict(float)
    for src, dst, w in _edges(conn, scope.user_id, list(seed_w), links):
        if dst != src:
            first[dst] += seed_w[src] * w
    second: dict[int, float] = {}
    hop1 = [i for i in first if i not in seed_w] if second_hop > 0 else []
    # ~2,000 directed edges a search once stores have linked up: one set lookup each (a self-link's ``dst``
    # is its ``src``, in ``first``), the hop's factor per source once; the same sums in the same order.
    reached = first.keys() | seed_w.keys()
    half = {i: second_hop * first[i] for i in hop1[:200]}
    for src, dst, w in _edges(conn, scope.user_id, hop1[:200], links):
        if dst not in reached:
            second[dst] = second.get(dst, 0.0) + half[src] * w
    raw: dict[int, float] = defaultdict(float)
    for table in (first, second):
        for i, s in table.items():
            if i not in exclude:
                raw[i] += s
    if not raw:
        return []
    factors = _visible(conn, scope, list(raw))
    scored = [(i, raw[i] * f) for i, f in factors.items()]
    scored.sort(key=lambda p: (-p[1], p[0]))
    return scored[:limit]
