"""Retrieval metrics over one ranked list and a set of relevant ids (binary relevance)."""

from __future__ import annotations

import math
from collections.abc import Collection, Hashable, Sequence

__all__ = ["hit_at_k", "ndcg_at_k", "recall_at_k"]


def recall_at_k(ranked: Sequence[Hashable], relevant: Collection[Hashable], k: int) -> float:
    """Fraction of the relevant ids found among the first ``k`` results (0.0 when nothing is relevant)."""
    if not relevant:
        return 0.0
    wanted = set(relevant)
    return len(wanted.intersection(ranked[:k])) / len(wanted)


def hit_at_k(ranked: Sequence[Hashable], relevant: Collection[Hashable], k: int) -> float:
    """1.0 if any relevant id is among the first ``k`` results, else 0.0."""
    wanted = set(relevant)
    return 1.0 if any(r in wanted for r in ranked[:k]) else 0.0


def ndcg_at_k(ranked: Sequence[Hashable], relevant: Collection[Hashable], k: int = 10) -> float:
    """Normalised DCG with binary gains: sum of 1/log2(rank + 1) over relevant hits, over the ideal.

    A result repeated in ``ranked`` counts once (at its first position).
    """
    wanted = set(relevant)
    if not wanted or k <= 0:
        return 0.0
    seen: set[Hashable] = set()
    dcg = 0.0
    for position, item in enumerate(ranked[:k], start=1):
        if item in wanted and item not in seen:
            dcg += 1.0 / math.log2(position + 1)
        seen.add(item)
    ideal = sum(1.0 / math.log2(p + 1) for p in range(1, min(k, len(wanted)) + 1))
    return dcg / ideal
