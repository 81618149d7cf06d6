"""Score multipliers applied after fusion, and the vector-only similarity floor.

Every multiplier is a small pure function returning 1.0 when it has nothing to say, so that
``final = fused * product(multipliers)`` and /search/explain can show each factor by name:

==============  =====================================================  =================
name            formula                                                range
==============  =====================================================  =================
retrievability  ``f + (1 - f) * R`` (FSRS probability of recall, f the  f .. 1.0
                floor, :data:`RETRIEVABILITY_FLOOR` by default)
source_count    ``1 + 0.1 * ln(n)`` for n sources, capped              1.0 .. 1.25
static          ``1.2`` for pinned/static memories                     1.0 or 1.2
pagerank        ``1 + 0.1 * p``, p = PageRank / the user's highest     1.0 .. 1.1
                (the most central memory gets the full 1.1)
temporal        :func:`engram_core.search.temporal.proximity_boost`    1.0 .. 1.5
outdated        ``1 - 0.5 * confidence`` when a newer memory           0.5 .. 1.0
                contradicts this one
feedback        ``1 + 0.06 * s`` for the memory's retrieval feedback   0.7 .. 1.3
                score s in [-5, 5] (POST /feedback)
==============  =====================================================  =================

Retrievability can shrink a score by a fifth: a memory nobody has recalled in a long time should lose to a
fresh one of equal relevance, but never by more than relevance can make up for (see
:data:`RETRIEVABILITY_FLOOR`). The boosts are capped small so that relevance (the fused
rank) stays the main signal.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

__all__ = [
    "BoostResult",
    "apply_boosts",
    "outdated_penalty",
    "pagerank_boost",
    "feedback_boost",
    "passes_vector_floor",
    "retrievability_boost",
    "source_count_boost",
    "static_boost",
]

SOURCE_COUNT_CAP = 1.25
STATIC_BOOST = 1.2
PAGERANK_CAP = 1.1
OUTDATED_MAX_PENALTY = 0.5
RETRIEVABILITY_FLOOR = 0.8
"""Lowest retrievability factor: a memory nobody recalled for years keeps 80% of its score.

It was 0.1. Every memory a search returns gets an implicit Good review, which puts its R back to 1, so
with real dates (an imported history) whatever earlier searches returned outranked its never-returned
neighbours of the same age 2.3 to 1: LoCoMo recall@10 fell from 0.757 to 0.693 when questions were
asked with those reviews. Leave-one-conversation-out chose 0.8 in four folds of five (1.0 in the fifth);
see BENCHMARKS.md (issue 11). ``Tuning.retrievability_floor`` defaults to this value."""
VECTOR_FLOOR = 0.25
"""Default cosine below which a result found only by the vector channel is dropped (MiniLM scale)."""


def _finite(value: float | None) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return float(value)


def retrievability_boost(retrievability: float | None, floor: float = RETRIEVABILITY_FLOOR) -> float:
    """``floor + (1 - floor) * R`` for the FSRS retrievability ``R`` in [0, 1] (clamped); 1.0 when unknown."""
    r = _finite(retrievability)
    if r is None:
        return 1.0
    return floor + (1.0 - floor) * min(1.0, max(0.0, r))


def source_count_boost(source_count: int | None) -> float:
    """Memories confirmed by several sources (near-duplicate stores) rank higher, log-scaled and capped."""
    if source_count is None or source_count <= 1:
        return 1.0
    return min(SOURCE_COUNT_CAP, 1.0 + 0.1 * math.log(source_count))


def static_boost(is_static: bool | None) -> float:
    """A fixed boost for static (core, pinned) memories."""
    return STATIC_BOOST if is_static else 1.0


def pagerank_boost(pagerank: float | None) -> float:
    """A small boost for central memories in the link graph.

    Stored PageRank is max-normalised per user by the cognitive core (the most central memory has 1.0),
    so the factor is ``1 + 0.1 * p``, capped at ``PAGERANK_CAP`` (1.1); no links, no boost.
    """
    pr = _finite(pagerank)
    if pr is None or pr <= 0:
        return 1.0
    return min(PAGERANK_CAP, 1.0 + 0.1 * pr)


def outdated_penalty(is_outdated: bool | None, confidence: float = 1.0) -> float:
    """Penalise a memory that a newer one contradicts: ``1 - 0.5 * confidence`` (confidence in [0, 1])."""
    if not is_outdated:
        return 1.0
    c = _finite(confidence)
    c = 1.0 if c is None else min(1.0, max(0.0, c))
    return 1.0 - OUTDATED_MAX_PENALTY * c


def feedback_boost(score: float | None) -> float:
    """``1 + 0.06 * s`` for the retrieval feedback score ``s`` (clamped to [-5, 5]): 0.7 .. 1.3."""
    s = _finite(score)
    if s is None or s == 0:
        return 1.0
    return 1.0 + 0.06 * min(5.0, max(-5.0, s))


@dataclass(frozen=True)
class BoostResult:
    """The boosted score and every multiplier that made it (name -> factor)."""

    score: float
    multipliers: dict[str, float] = field(default_factory=dict)


def apply_boosts(
    fused_score: float,
    *,
    retrievability: float | None = None,
    retrievability_floor: float = RETRIEVABILITY_FLOOR,
    source_count: int | None = None,
    is_static: bool | None = None,
    pagerank: float | None = None,
    temporal: float = 1.0,
    is_outdated: bool | None = None,
    outdated_confidence: float = 1.0,
    feedback: float | None = None,
) -> BoostResult:
    """Multiply ``fused_score`` by every boost and report each factor.

    Args:
        fused_score: The RRF score.
        retrievability: FSRS retrievability now, in [0, 1]; None when the memory has no FSRS state.
        retrievability_floor: The retrievability factor at R = 0 (1.0: retrievability has no say).
        source_count: How many times the memory was stored (near-duplicates bump it).
        is_static: Whether the memory is static (core).
        pagerank: The memory's max-normalised PageRank (0..1).
        temporal: A precomputed temporal proximity multiplier (see ``temporal.proximity_boost``).
        is_outdated: A newer memory contradicts this one.
        outdated_confidence: Confidence of that contradiction, in [0, 1].
        feedback: The memory's retrieval feedback score (-5..5).

    Returns:
        The final score and a dict with keys retrievability, source_count, static, pagerank, temporal,
        outdated, feedback (always all seven, for a stable /search/explain shape).
    """
    multipliers = {
        "retrievability": retrievability_boost(retrievability, retrievability_floor),
        "source_count": source_count_boost(source_count),
        "static": static_boost(is_static),
        "pagerank": pagerank_boost(pagerank),
        "temporal": temporal if math.isfinite(temporal) and temporal > 0 else 1.0,
        "outdated": outdated_penalty(is_outdated, outdated_confidence),
        "feedback": feedback_boost(feedback),
    }
    score = fused_score
    for factor in multipliers.values():
        score *= factor
    return BoostResult(score, multipliers)


def passes_vector_floor(
    channels: set[str] | frozenset[str] | list[str] | tuple[str, ...],
    semantic_score: float | None,
    floor: float = VECTOR_FLOOR,
) -> bool:
    """Whether a fused result survives the vector-only floor.

    Dense retrieval always returns neighbours, even for a query unrelated to anything stored. A result
    found *only* by the vector channel must have a cosine of at least ``floor``; a result any other channel
    also found (words in common, a link, a personality signal) is always kept.
    """
    found_by = set(channels)
    if found_by != {"vector"}:
        return True
    return semantic_score is not None and math.isfinite(semantic_score) and semantic_score >= floor
