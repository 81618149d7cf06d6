"""The numeric knobs of search scoring that are chosen by measurement, in one frozen dataclass.

:class:`Tuning` holds every scoring constant that was chosen on held-out data (leave-one-conversation-out
folds of LoCoMo, see BENCHMARKS.md); the pipeline reads its own instance, so a benchmark can score
several settings against one stored corpus without touching module globals. The defaults are the
values the folds chose; each field says what it does and which value turns it off.
"""

from __future__ import annotations

from dataclasses import dataclass

from .boosts import RETRIEVABILITY_FLOOR
from .channels.session import CONTEXT_SHARE
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
        score_weight: Weight of the min-max score term in fusion (:func:`.fusion.fuse`); 0 is plain RRF.
        context_share: Share of a top result's fused score its session neighbours receive
            (:mod:`.channels.session`); 0 is off.
        calibrated: ``score`` carries the query's absolute relevance (:mod:`.relevance`); False gives the
            old relative score (for comparison).
    """

    retrievability_floor: float = RETRIEVABILITY_FLOOR
    user_clock: bool = False
    session_weight: float = 0.6
    name_boost: float = 0.5
    score_weight: float = SCORE_WEIGHT
    context_share: float = CONTEXT_SHARE
    calibrated: bool = True
