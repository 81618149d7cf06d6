"""Weighted Reciprocal Rank Fusion of the search channels' ranked lists.

Each channel (vector, fts, personality, graph) hands over its candidates best first. An id at 1-based
rank ``r`` in channel ``c`` earns ``weights[c] / (k + r)``; the fused score is the sum over the channels
that found it (Cormack et al., 2009, with per-channel weights). Scores alone are not comparable across
channels (cosine vs BM25 vs edge weights), ranks are, which is why fusion works on ranks.

Ties are broken deterministically, in this order: higher fused score, found by more channels, better
(lower) best rank, then first appearance when the channels are read in sorted channel-name order. The
result therefore never depends on dict iteration order or on the ids being comparable.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from ..errors import Invalid

__all__ = ["DEFAULT_K", "Fused", "rrf"]

DEFAULT_K = 60
"""The RRF constant: larger values flatten the difference between top and lower ranks."""

IdT = TypeVar("IdT", bound=Hashable)


@dataclass
class Fused(Generic[IdT]):
    """One fused result.

    Attributes:
        id: The candidate's id.
        score: The weighted RRF score.
        ranks: 1-based rank of the id in every channel that returned it.
        contributions: What each of those channels added to ``score``.
    """

    id: IdT
    score: float
    ranks: dict[str, int] = field(default_factory=dict)
    contributions: dict[str, float] = field(default_factory=dict)

    @property
    def channels(self) -> list[str]:
        """The channels that found this id, in sorted order (e.g. for ``search_type``)."""
        return sorted(self.ranks)


def rrf(
    channel_rankings: Mapping[str, Sequence[IdT]],
    weights: Mapping[str, float] | None = None,
    k: int = DEFAULT_K,
    limit: int | None = None,
) -> list[Fused[IdT]]:
    """Fuse ranked lists with weighted Reciprocal Rank Fusion.

    Args:
        channel_rankings: Channel name -> ids, best first. An id repeated within one channel counts at its
            first (best) position only.
        weights: Channel name -> weight (>= 0). A channel missing here weighs 1.0. A weight of 0 keeps the
            channel's ranks visible (for /search/explain) but adds nothing to the score.
        k: The RRF constant (> 0).
        limit: Return at most this many results (``None``: all).

    Returns:
        Every id found by any channel, best first.

    Raises:
        Invalid: ``k`` is not positive or a weight is negative or not finite.
    """
    if k <= 0:
        raise Invalid("k", "must be positive")
    weights = weights or {}
    for name, w in weights.items():
        if not (w >= 0.0 and w != float("inf")):
            raise Invalid(f"weights.{name}", "must be a finite number >= 0")

    fused: dict[IdT, Fused[IdT]] = {}
    first_seen: dict[IdT, int] = {}
    for channel in sorted(channel_rankings):
        weight = float(weights.get(channel, 1.0))
        rank = 0
        for item in channel_rankings[channel]:
            entry = fused.get(item)
            if entry is None:
                entry = fused[item] = Fused(id=item, score=0.0)
                first_seen[item] = len(first_seen)
            if channel in entry.ranks:
                continue
            rank += 1
            contribution = weight / (k + rank)
            entry.ranks[channel] = rank
            entry.contributions[channel] = contribution
            entry.score += contribution

    ordered = sorted(
        fused.values(),
        key=lambda f: (-f.score, -len(f.ranks), min(f.ranks.values()), first_seen[f.id]),
    )
    return ordered if limit is None else ordered[: max(0, limit)]
