"""Reviewing memories with FSRS-6: the state machine, retrievability, intervals and the decay score.

A *review* is any graded access to a memory (1 = Again, 2 = Hard, 3 = Good, 4 = Easy). The state
machine is py-fsrs's with one learning step and one relearning step and no minute-level scheduling:

* first review (``initial_state``): Again / Hard -> learning, Good / Easy -> review;
* learning or relearning: Good / Easy -> review, Again / Hard -> stays;
* review: Again -> relearning (and ``lapses`` + 1), Hard / Good / Easy -> stays.

Every review updates difficulty; stability uses the same-day formula when less than a day has passed
since the last review, else the recall (G >= 2) or lapse (G = 1) formula with the retrievability at
that moment (elapsed time in fractional days). Stability is then clamped to [0.1, 36500] days.

Dual strength (Bjork & Bjork): *retrieval strength* is the FSRS retrievability R(t, S): 1.0 right
after any review (access resets it) and decaying along the power curve. *Storage strength* grows with
every review and never decays: each review adds ``STORAGE_GAIN[G] * (2 - R)``, R being the
retrievability just before the review, so a successful recall of a half-forgotten memory adds more than
cramming (the spacing effect), and even a failed recall adds a little (re-exposure).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from numbers import Integral

from ..errors import Invalid
from ..timeutil import to_utc
from . import fsrs6
from .state import FsrsState, Grade, LearningState

__all__ = [
    "IMPORTANCE_WEIGHT",
    "STORAGE_GAIN",
    "decay_score",
    "elapsed_days",
    "initial_state",
    "next_review_days",
    "refresh",
    "retrievability",
    "review",
]

#: Storage strength added by one review of each grade, before the (2 - R) spacing factor.
STORAGE_GAIN: dict[int, float] = {1: 0.2, 2: 0.6, 3: 1.0, 4: 1.3}
#: Share of ``decay_score`` given to importance (the rest is retrievability).
IMPORTANCE_WEIGHT: float = 0.3

_SECONDS_PER_DAY = 86400.0


def _grade(grade: int) -> int:
    if isinstance(grade, bool) or not isinstance(grade, Integral) or not 1 <= int(grade) <= 4:
        raise Invalid("grade", f"must be an integer from 1 (again) to 4 (easy), got {grade!r}")
    return int(grade)


def elapsed_days(since: datetime, now: datetime) -> float:
    """Fractional days from ``since`` to ``now``; 0 if ``now`` is earlier (clock skew)."""
    seconds = (to_utc(now) - to_utc(since)).total_seconds()
    return max(seconds / _SECONDS_PER_DAY, 0.0)


def initial_state(now: datetime, grade: int = Grade.GOOD) -> FsrsState:
    """The state after the first review, made when a memory is stored (default grade Good).

    S = S0(G) = w[G-1], D = D0(G), reps = 1, retrieval strength 1, storage strength STORAGE_GAIN[G].
    """
    g = _grade(grade)
    return FsrsState(
        stability=fsrs6.clamp_stability(fsrs6.initial_stability(g)),
        difficulty=fsrs6.initial_difficulty(g),
        learning_state=LearningState.REVIEW if g >= Grade.GOOD else LearningState.LEARNING,
        reps=1,
        lapses=0,
        last_review_at=to_utc(now),
        storage_strength=STORAGE_GAIN[g],
        retrieval_strength=1.0,
    )


def _next_learning_state(current: LearningState, grade: int) -> LearningState:
    if current is LearningState.REVIEW:
        return LearningState.RELEARNING if grade == Grade.AGAIN else LearningState.REVIEW
    return LearningState.REVIEW if grade >= Grade.GOOD else current


def review(state: FsrsState, grade: int, now: datetime) -> FsrsState:
    """The state after a review graded ``grade`` at ``now`` (see the module docstring for the rules).

    A ``now`` before the last review (clock skew) counts as a review at the last review's time.
    """
    g = _grade(grade)
    now = max(to_utc(now), state.last_review_at)
    elapsed = elapsed_days(state.last_review_at, now)
    r = fsrs6.forgetting_curve(elapsed, state.stability)
    if elapsed < 1.0:
        stability = fsrs6.short_term_stability(state.stability, g)
    elif g == Grade.AGAIN:
        stability = fsrs6.forget_stability(state.difficulty, state.stability, r)
    else:
        stability = fsrs6.recall_stability(state.difficulty, state.stability, r, g)
    lapsed = state.learning_state is LearningState.REVIEW and g == Grade.AGAIN
    return FsrsState(
        stability=fsrs6.clamp_stability(stability),
        difficulty=fsrs6.next_difficulty(state.difficulty, g),
        learning_state=_next_learning_state(state.learning_state, g),
        reps=state.reps + 1,
        lapses=state.lapses + (1 if lapsed else 0),
        last_review_at=now,
        storage_strength=state.storage_strength + STORAGE_GAIN[g] * (2.0 - r),
        retrieval_strength=1.0,
    )


def retrievability(state: FsrsState, now: datetime) -> float:
    """Live retrieval strength: R(t, S) with t the fractional days since the last review, in (0, 1]."""
    return fsrs6.forgetting_curve(elapsed_days(state.last_review_at, now), state.stability)


def refresh(state: FsrsState, now: datetime) -> FsrsState:
    """The same state with ``retrieval_strength`` set to the retrievability at ``now`` (for sweeps)."""
    return replace(state, retrieval_strength=retrievability(state, now))


def next_review_days(state: FsrsState, desired_retention: float = 0.9) -> float:
    """Days after the last review at which retrievability falls to ``desired_retention``.

    Fractional (not rounded to whole days), at most ``STABILITY_MAX`` days; with the default 0.9 it is
    exactly the stability. ``desired_retention`` must be in (0, 1).
    """
    if not 0.0 < desired_retention < 1.0:
        raise Invalid("desired_retention", "must be between 0 and 1 (exclusive)")
    return min(fsrs6.interval_days(state.stability, desired_retention), fsrs6.STABILITY_MAX)


def decay_score(
    state: FsrsState, now: datetime, importance: float, *, importance_weight: float = IMPORTANCE_WEIGHT
) -> float:
    """A 0..1 score of how alive a memory is: ``(1 - k) * R + k * (importance - 1) / 9``.

    ``R`` is the retrievability at ``now``, ``importance`` the memory's 1-10 importance and
    ``k = importance_weight`` (default 0.3). So a memory just reviewed with importance 10 scores 1.0, a
    forgotten one with importance 1 tends to 0, and importance alone keeps a forgotten memory at up to
    ``k``: important memories sink more slowly in rankings and reach an archive threshold later.
    Monotone: increasing in importance, decreasing in time since the last review.
    """
    if not 1.0 <= importance <= 10.0:
        raise Invalid("importance", f"must be from 1 to 10, got {importance!r}")
    if not 0.0 <= importance_weight <= 1.0:
        raise Invalid("importance_weight", "must be from 0 to 1")
    r = retrievability(state, now)
    score = (1.0 - importance_weight) * r + importance_weight * (importance - 1.0) / 9.0
    return min(max(score, 0.0), 1.0)
