"""The FSRS state machine, dual strength, intervals and decay score; cross-checked with py-fsrs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import fsrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tests.core.decay.fsrs_reference as ref
from engram_core.decay import (
    FsrsState,
    Grade,
    LearningState,
    decay_score,
    elapsed_days,
    initial_state,
    next_review_days,
    refresh,
    retrievability,
    review,
)
from engram_core.errors import Invalid

T0 = datetime(2026, 1, 1, 8, 0, tzinfo=UTC)
REL = 1e-9


def at(days: float) -> datetime:
    return T0 + timedelta(days=days)


@pytest.mark.parametrize(
    ("grade", "stability", "difficulty", "state"),
    [
        (1, 0.212, 6.4133, LearningState.LEARNING),
        (2, 1.2931, 5.112170705601055, LearningState.LEARNING),
        (3, 2.3065, 2.118103970459015, LearningState.REVIEW),
        (4, 8.2956, 1.0, LearningState.REVIEW),
    ],
)
def test_initial_state(grade: int, stability: float, difficulty: float, state: LearningState) -> None:
    s = initial_state(T0, grade)
    assert s.stability == pytest.approx(stability, rel=REL)
    assert s.difficulty == pytest.approx(difficulty, rel=REL)
    assert s.learning_state is state
    assert (s.reps, s.lapses, s.last_review_at, s.retrieval_strength) == (1, 0, T0, 1.0)
    assert s.storage_strength > 0


def test_initial_state_defaults_to_good() -> None:
    assert initial_state(T0) == initial_state(T0, Grade.GOOD)


# Each sequence: first grade, then (day of review, grade) pairs. Fractional days, same-day reviews,
# lapses, relearning and the stability floor are all covered.
SEQUENCES = [
    ("good-spaced", 3, [(3, 3), (13, 3), (40, 3), (140, 3)]),
    ("lapse-relearn", 3, [(3, 3), (13.5, 1), (13.9, 3), (16, 3), (40.25, 2)]),
    ("cram-same-day", 3, [(0.01, 3), (0.02, 3), (0.3, 4), (0.9, 2)]),
    ("hard-learning", 2, [(0.2, 2), (1.7, 2), (4, 3), (9, 1), (9.1, 1), (9.2, 1), (12, 4)]),
    ("again-floor", 1, [(0.1, 1), (0.2, 1), (0.3, 1), (2, 1), (5, 3)]),
    ("easy-long", 4, [(30, 4), (200, 4), (1500, 4), (9000, 4)]),
]


@pytest.mark.parametrize(("name", "first", "steps"), SEQUENCES, ids=[s[0] for s in SEQUENCES])
def test_review_sequences_match_reference(name: str, first: int, steps: list[tuple[float, int]]) -> None:
    state = initial_state(T0, first)
    expected = ref.ref_first(first, 0.0)
    for day, grade in steps:
        state = review(state, grade, at(day))
        expected = ref.ref_review(expected, grade, day)
        assert state.stability == pytest.approx(expected.s, rel=REL), (name, day)
        assert state.difficulty == pytest.approx(expected.d, rel=REL), (name, day)
        assert state.learning_state.value == expected.state, (name, day)
        assert (state.reps, state.lapses) == (expected.reps, expected.lapses), (name, day)
        assert state.last_review_at == at(day)
        assert 0.1 <= state.stability <= 36500


def test_lapses_count_only_again_in_review() -> None:
    s = initial_state(T0, 3)  # review
    s = review(s, 1, at(5))  # lapse -> relearning
    assert (s.learning_state, s.lapses) == (LearningState.RELEARNING, 1)
    s = review(s, 1, at(7))  # again while relearning: no new lapse
    assert (s.learning_state, s.lapses) == (LearningState.RELEARNING, 1)
    s = review(s, 2, at(9))
    assert s.learning_state is LearningState.RELEARNING
    s = review(s, 3, at(11))
    assert s.learning_state is LearningState.REVIEW
    assert s.reps == 5


def _pyfsrs() -> fsrs.Scheduler:
    step = (timedelta(minutes=10),)
    return fsrs.Scheduler(learning_steps=step, relearning_steps=step, enable_fuzzing=False)


@pytest.mark.parametrize(
    "grades_by_day",
    [
        [(0, 3), (3, 3), (10, 3), (30, 1), (31, 3), (40, 4)],
        [(0, 2), (1, 3), (4, 2), (9, 3), (25, 3)],
        [(0, 4), (10, 2), (30, 1), (32, 1), (35, 3)],
        [(0, 3), (0.25, 3), (0.5, 4), (2.5, 3)],  # same-day reviews with G >= 3 agree too
    ],
)
def test_matches_pyfsrs_on_whole_days(grades_by_day: list[tuple[float, int]]) -> None:
    """Away from the documented differences (whole-day gaps, no same-day Hard, no bounds) py-fsrs agrees."""
    scheduler = _pyfsrs()
    card = fsrs.Card(card_id=1)
    state: FsrsState | None = None
    for day, grade in grades_by_day:
        card, _ = scheduler.review_card(card, fsrs.Rating(grade), at(day))
        state = initial_state(at(day), grade) if state is None else review(state, grade, at(day))
        assert state.stability == pytest.approx(card.stability, rel=1e-9)
        assert state.difficulty == pytest.approx(card.difficulty, rel=1e-9)
        assert state.learning_state.name == card.state.name.upper()
    assert state is not None
    later = at(grades_by_day[-1][0] + 20)
    assert retrievability(state, later) == pytest.approx(scheduler.get_card_retrievability(card, later))


def test_differs_from_pyfsrs_on_same_day_hard() -> None:
    scheduler = _pyfsrs()
    card, _ = scheduler.review_card(fsrs.Card(card_id=1), fsrs.Rating.Good, T0)
    card, _ = scheduler.review_card(card, fsrs.Rating.Hard, at(0.5))
    state = review(initial_state(T0, 3), 2, at(0.5))
    assert card.stability == pytest.approx(2.3065)  # py-fsrs floors the factor at 1 for Hard too
    assert state.stability == pytest.approx(ref.s_same_day(2.3065, 2), rel=REL)
    assert state.stability < 2.3065


def test_differs_from_pyfsrs_on_fractional_days() -> None:
    scheduler = _pyfsrs()
    card, _ = scheduler.review_card(fsrs.Card(card_id=1), fsrs.Rating.Good, T0)
    state = initial_state(T0, 3)
    assert scheduler.get_card_retrievability(card, at(1.9)) == pytest.approx(ref.r_of(1, 2.3065))
    assert retrievability(state, at(1.9)) == pytest.approx(ref.r_of(1.9, 2.3065), rel=REL)


def test_storage_strength_grows_and_never_decays() -> None:
    s = initial_state(T0, 3)
    previous = s.storage_strength
    for day, grade in [(0.1, 1), (2, 2), (5, 3), (6, 1), (30, 4)]:
        s = review(s, grade, at(day))
        assert s.storage_strength > previous
        previous = s.storage_strength
        assert s.retrieval_strength == 1.0
    later = refresh(s, at(400))
    assert later.storage_strength == s.storage_strength
    assert later.retrieval_strength == pytest.approx(retrievability(s, at(400)))
    assert later.retrieval_strength < 1.0


def test_spaced_review_adds_more_storage_than_cramming() -> None:
    s = initial_state(T0, 3)
    crammed = review(s, 3, at(0.01))
    spaced = review(s, 3, at(10))
    assert spaced.storage_strength - s.storage_strength > crammed.storage_strength - s.storage_strength


def test_retrievability_decays_from_one() -> None:
    s = initial_state(T0, 3)
    assert retrievability(s, T0) == 1.0
    assert retrievability(s, at(-1)) == 1.0
    assert retrievability(s, at(2.3065)) == pytest.approx(0.9, rel=1e-12)
    values = [retrievability(s, at(d)) for d in (0.5, 1, 5, 50, 500)]
    assert values == sorted(values, reverse=True)
    assert elapsed_days(T0, at(1.5)) == pytest.approx(1.5)


def test_next_review_days() -> None:
    s = initial_state(T0, 4)
    assert next_review_days(s) == pytest.approx(8.2956, rel=1e-12)
    for retention in (0.7, 0.85, 0.95):
        days = next_review_days(s, retention)
        assert retrievability(s, at(days)) == pytest.approx(retention, rel=1e-9)
    assert next_review_days(s, 0.95) < next_review_days(s) < next_review_days(s, 0.8)
    for bad in (0.0, 1.0, -0.5, 1.5):
        with pytest.raises(Invalid):
            next_review_days(s, bad)


@pytest.mark.parametrize("grade", [0, 5, -1, True, 3.0, "3"])
def test_bad_grades_are_invalid(grade: object) -> None:
    with pytest.raises(Invalid):
        review(initial_state(T0), grade, at(1))  # type: ignore[arg-type]
    with pytest.raises(Invalid):
        initial_state(T0, grade)  # type: ignore[arg-type]


def test_review_before_last_review_is_a_same_moment_review() -> None:
    s = initial_state(T0, 3)
    skewed = review(s, 3, at(-2))
    assert skewed.last_review_at == T0
    assert skewed == review(s, 3, T0)


def test_pyfsrs_rating_is_accepted() -> None:
    assert review(initial_state(T0), fsrs.Rating.Easy, at(3)) == review(initial_state(T0), 4, at(3))


@pytest.mark.parametrize(
    ("days", "importance", "expected"),
    [
        (0, 10, 1.0),
        (0, 1, 0.7),
        (2.3065, 1, 0.63),
        (2.3065, 5.5, 0.78),
    ],
)
def test_decay_score_examples(days: float, importance: float, expected: float) -> None:
    assert decay_score(initial_state(T0), at(days), importance) == pytest.approx(expected, rel=1e-9)


def test_decay_score_weight_and_validation() -> None:
    s = initial_state(T0)
    assert decay_score(s, at(2.3065), 10, importance_weight=0.0) == pytest.approx(0.9)
    assert decay_score(s, at(1e6), 10, importance_weight=1.0) == pytest.approx(1.0)
    for bad in (0, 11, -3):
        with pytest.raises(Invalid):
            decay_score(s, T0, bad)
    with pytest.raises(Invalid):
        decay_score(s, T0, 5, importance_weight=1.5)


@given(
    days=st.floats(min_value=0, max_value=1e5),
    later=st.floats(min_value=0, max_value=1e4),
    importance=st.floats(min_value=1, max_value=9),
    bump=st.floats(min_value=0, max_value=1),
)
def test_decay_score_is_bounded_and_monotone(days: float, later: float, importance: float, bump: float) -> None:
    s = initial_state(T0, 2)
    score = decay_score(s, at(days), importance)
    assert 0.0 <= score <= 1.0
    assert decay_score(s, at(days + later), importance) <= score + 1e-12
    assert decay_score(s, at(days), importance + bump) >= score - 1e-12
