"""Weighted Reciprocal Rank Fusion of the search channels' ranked lists.

Each channel (vector, fts, personality, graph) hands over its candidates best first. An id at 1-based
rank ``r`` in channel ``c`` earns ``weights[c] / (k + r)``; the fused score is the sum over the channels
that found it (Cormack et al., 2009, with per-channel weights). Scores alone are not comparable across
channels (cosine vs BM25 vs edge weights), ranks are, which is why fusion works on ranks.

RRF alone throws away *how much* better the first hit is than the second. For short texts (chat turns,
notes) that gap is often the whole signal: one turn shares three rare words with the question, the next
one shares a name. :func:`fuse` therefore adds, for the channels whose scores measure query-document
relevance (BM25 and cosine), a score term: the channel's weight x :data:`SCORE_WEIGHT` x the candidate's
min-max normalised score within that channel's list (best 1.0, last 0.0). Per channel, the score term is
monotone in rank, so it never reorders a single channel's list; across channels it lets a clear winner
of one channel beat a mediocre candidate both channels returned. Graph and personality scores are
propagated or pattern weights, not relevance: they stay rank-only.

Ties are broken deterministically, in this order: higher fused score, found by more channels, better
(lower) best rank, then first appearance when the channels are read in sorted channel-name order. The
result therefore never depends on dict iteration order or on the ids being comparable.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from ..errors import Invalid

__all__ = ["DEFAULT_K", "SCORED_CHANNELS", "SCORE_WEIGHT", "Fused", "fuse", "minmax", "rrf"]

DEFAULT_K = 60
"""The RRF constant: larger values flatten the difference between top and lower ranks."""

SCORE_WEIGHT = 0.1
"""Weight of the normalised-score term relative to the channel weight (RRF's best term is 1/61 ~ 0.016,
so at 0.1 the score term leads and RRF mostly breaks ties and rewards agreement between channels)."""

SCORED_CHANNELS: frozenset[str] = frozenset({"fts", "vector"})
"""Channels whose scores measure relevance to the query and take part in the score term."""

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


def minmax(scores: Sequence[float]) -> list[float]:
    """Scores mapped linearly to [0, 1] (best 1.0, worst 0.0); all 1.0 when they are equal or single.

    Non-finite scores map to 0.0 and are left out of the range.
    """
    finite = [s for s in scores if math.isfinite(s)]
    if not finite:
        return [0.0] * len(scores)
    lo, hi = min(finite), max(finite)
    span = hi - lo
    return [(0.0 if not math.isfinite(s) else 1.0 if span <= 0 else (s - lo) / span) for s in scores]


def fuse(
    channel_hits: Mapping[str, Sequence[tuple[IdT, float]]],
    weights: Mapping[str, float] | None = None,
    k: int = DEFAULT_K,
    limit: int | None = None,
    *,
    score_weight: float = SCORE_WEIGHT,
    scored: Collection[str] = SCORED_CHANNELS,
) -> list[Fused[IdT]]:
    """Weighted RRF plus a min-max normalised score term for the ``scored`` channels.

    Args:
        channel_hits: Channel name -> ``(id, score)`` best first (higher score is better).
        weights: Channel name -> weight, as for :func:`rrf`.
        k: The RRF constant.
        limit: Return at most this many results.
        score_weight: Multiplier of the score term (0 gives plain :func:`rrf`).
        scored: Channels that get the score term.

    Returns:
        Every id found by any channel, best first; ``contributions`` include the score term.

    Raises:
        Invalid: as :func:`rrf`, or ``score_weight`` is negative or not finite.
    """
    if not (score_weight >= 0.0 and math.isfinite(score_weight)):
        raise Invalid("score_weight", "must be a finite number >= 0")
    fused = rrf({c: [i for i, _ in hits] for c, hits in channel_hits.items()}, weights, k)
    if score_weight == 0.0:
        return fused if limit is None else fused[: max(0, limit)]
    by_id = {f.id: f for f in fused}
    weights = weights or {}
    order = {f.id: n for n, f in enumerate(fused)}
    for channel in sorted(c for c in channel_hits if c in scored):
        hits = channel_hits[channel]
        weight = float(weights.get(channel, 1.0)) * score_weight
        seen: set[IdT] = set()
        for (item, _), norm in zip(hits, minmax([float(s) for _, s in hits]), strict=True):
            if item in seen:  # a repeated id counts at its first (best) position only, as in rrf
                continue
            seen.add(item)
            entry = by_id[item]
            entry.contributions[channel] += weight * norm
            entry.score += weight * norm
    ordered = sorted(fused, key=lambda f: (-f.score, -len(f.ranks), min(f.ranks.values()), order[f.id]))
    return ordered if limit is None else ordered[: max(0, limit)]
