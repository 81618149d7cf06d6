"""Memory decay: FSRS-6 scheduling and the dual-strength (storage / retrieval) model.

``fsrs6`` holds the formulas, ``state`` the immutable ``FsrsState`` and its SQL row mapping, ``review``
the state machine and scores built on them (those three do no I/O). ``apply`` writes reviews to memory
rows (explicit, Again on forget/archive, batched implicit Good reviews); ``service`` serves the FSRS
and decay routes.
"""

from __future__ import annotations

from . import fsrs6
from .review import (
    IMPORTANCE_WEIGHT,
    STORAGE_GAIN,
    decay_score,
    elapsed_days,
    initial_state,
    next_review_days,
    refresh,
    retrievability,
    review,
)
from .state import FsrsState, Grade, LearningState

__all__ = [
    "IMPORTANCE_WEIGHT",
    "STORAGE_GAIN",
    "FsrsState",
    "Grade",
    "LearningState",
    "decay_score",
    "elapsed_days",
    "fsrs6",
    "initial_state",
    "next_review_days",
    "refresh",
    "retrievability",
    "review",
]
