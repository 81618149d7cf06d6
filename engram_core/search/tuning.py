"""The numeric knobs of search scoring that are chosen by measurement, in one frozen dataclass.

:class:`Tuning` holds every scoring constant that was chosen on held-out data (leave-one-conversation-out
folds of LoCoMo, see BENCHMARKS.md); the pipeline reads its own instance, so a benchmark can score
several settings against one stored corpus without touching module globals. The defaults are the
values the folds chose; each field says what it does and which value turns it off.
"""

from __future__ import annotations

from dataclasses import dataclass

from .boosts import RETRIEVABILITY_FLOOR
from .channels.graph import SECOND_HOP
from .channels.session import CONTEXT_SEEDS, CONTEXT_SHARE, CONTEXT_WINDOW
from .expand import SEEDS as EXPAND_SEEDS
from .expand import TERMS as EXPAND_TERMS
from .fusion import SCORE_WEIGHT

__all__ = ["Tuning"]


@dataclass(frozen=True)
class Tuning:
    """Measured scoring constants (see the module docstring).

    Attributes:
        retrievability_floor: FSRS factor is ``floor + (1 - floor) * R``; 1.0 turns recency off.
        user_clock: Measure a memory's age against the newest candidate's last review instead of the wall
            clock, so that an imported history (old real dates) is not faded as a whole.
        session_weight: Share of its session's score each candidate gains (:mod:`.rescore`); 0 is off.
        name_boost: Boost of memories containing the names a query mentions (:mod:`.rescore`); 0 is off.
        speaker_boost: Boost of chat turns whose speaker label is a name the query mentions
            (:mod:`.rescore`); 0 is off.
        score_weight: Weight of the min-max score term in fusion (:func:`.fusion.fuse`); 0 is plain RRF.
        context_share: Share of a top result's fused score its session neighbours receive
            (:mod:`.channels.session`); 0 is off.
        context_seeds: How many of the best fused results lend score to their session neighbours.
        context_window: How many positions each side of a seed count as its session context.
        context_facts: Whether fact memories (decomposed from a turn, same session and ``created_at``) count
            as session neighbours.
        candidate_scale: Multiplier of every channel's candidate count and of the fused pool that is
            boosted and rescored (1.0 today; more candidates cost a few rows read, never a corpus scan).
        second_hop: Weight of a graph path's second edge (:mod:`.channels.graph`); 0 is 1 hop only.
        expand: Weight of the ``expand`` channel (:mod:`.expand`: the query's words plus the words its best
            first-round hits share) relative to the keyword channel's; 0 is off.
        expand_pool: The expansion ranks only the candidates the channels found, by their own text (no
            index read); False runs it as a second BM25 query over the whole corpus (+70 ms p50 at 100k
            memories, and no better on LoCoMo held out).
        expand_seeds: How many of the first fusion's best hits give the expansion its words (5 chosen on
            folds over 3-12; the graph channel takes its own 8 whatever this is).
        expand_terms: Most words the expansion adds.
        session_diversity: Penalty of a candidate whose session already has ``session_free`` candidates
            above it: ``x (1 - penalty)`` per such candidate beyond those (:mod:`.rescore`); 0 is off.
        session_free: How many candidates of one session rank without the diversity penalty.
        calibrated: ``score`` carries the query's absolute relevance (:mod:`.relevance`); False gives the
            old relative score (for comparison).
    """

    retrievability_floor: float = RETRIEVABILITY_FLOOR
    user_clock: bool = False
    session_weight: float = 0.6
    name_boost: float = 0.5
    speaker_boost: float = 1.0
    score_weight: float = SCORE_WEIGHT
    context_share: float = CONTEXT_SHARE
    context_seeds: int = CONTEXT_SEEDS
    context_window: int = CONTEXT_WINDOW
    context_facts: bool = True
    candidate_scale: float = 1.0
    second_hop: float = SECOND_HOP
    expand: float = 2.0
    expand_pool: bool = True
    expand_seeds: int = EXPAND_SEEDS
    expand_terms: int = EXPAND_TERMS
    session_diversity: float = 0.0
    session_free: int = 2
    calibrated: bool = True
