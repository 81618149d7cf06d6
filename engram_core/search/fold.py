"""Folding a decomposed memory and its facts into one search hit.

A memory decomposed into facts (``has_fact`` links parent -> fact, see
``engram_core.intelligence.decompose``) would otherwise come back as several near-identical hits and split
its evidence: the fact ranks well in the vector channel, the parent in BM25, and neither gets both. So the
channels' lists are folded *before* fusion (:func:`fold_lists`): every fact hit counts as a hit of its
family (the parent id), at the family's best rank in that channel; the fused family is then shown as its
best-ranked member (:class:`Families`), a fact with ``fact_of`` = the parent. Facts therefore only ever
add evidence to the memory they came from: a search cannot rank a decomposed memory lower than before.

A fact whose parent the scope does not allow (a ``category`` filter, a trashed parent) stays itself.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from .filters import Scope

__all__ = ["Families", "fold_lists"]


@dataclass
class Families:
    """Which member shows for each family id (only families shown by a fact are listed)."""

    shown: dict[int, int] = field(default_factory=dict)

    def member(self, family: int) -> int:
        return self.shown.get(family, family)


def _parents(conn: Any, scope: Scope, ids: list[int]) -> dict[int, int]:
    rows = conn.execute(
        "SELECT l.target_id, l.source_id FROM json_each(?) j CROSS JOIN memory_links l ON l.target_id = j.value"
        " WHERE l.link_type = 'has_fact' AND +l.user_id = ?",
        (json.dumps(ids), scope.user_id),
    ).fetchall()
    parents = {int(r[0]): int(r[1]) for r in rows}
    allowed = scope.allowed(conn, sorted(set(parents.values())))
    return {fact: parent for fact, parent in parents.items() if parent in allowed}


def fold_lists(
    conn: Any, scope: Scope, lists: dict[str, list[tuple[int, float]]]
) -> tuple[dict[str, list[tuple[int, float]]], Families]:
    """Each channel's hits by family, best rank first; and the member each family shows."""
    ids = sorted({i for hits in lists.values() for i, _ in hits})
    parents = _parents(conn, scope, ids) if ids else {}
    if not parents:
        return lists, Families()
    best: dict[int, tuple[int, int]] = {}  # family -> (best rank in any channel, member at that rank)
    folded: dict[str, list[tuple[int, float]]] = {}
    for channel, hits in lists.items():
        out: list[tuple[int, float]] = []
        seen: set[int] = set()
        for rank, (memory_id, score) in enumerate(hits):
            family = parents.get(memory_id, memory_id)
            if (rank, memory_id) < best.get(family, (len(hits) + 1, memory_id)):
                best[family] = (rank, memory_id)
            if family not in seen:
                seen.add(family)
                out.append((family, score))
        folded[channel] = out
    return folded, Families({family: member for family, (_, member) in best.items() if member != family})
