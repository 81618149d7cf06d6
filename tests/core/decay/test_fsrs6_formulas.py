"""Table-driven checks of the FSRS-6 formulas against literal values and the independent reference."""

from __future__ import annotations

import math

import pytest

import tests.core.decay.fsrs_reference as ref
from engram_core.decay import fsrs6

REL = 1e-9


def test_default_weights_are_fsrs6() -> None:
    assert len(fsrs6.DEFAULT_WEIGHTS) == 21
    assert fsrs6.DEFAULT_WEIGHTS[20] == 0.1542
    assert list(fsrs6.DEFAULT_WEIGHTS) == ref.W


def test_factor_makes_r_of_s_equal_0_9() -> None:
    expected = 0.9 ** (-1 / 0.1542) - 1
    factor = fsrs6.FACTOR
    assert factor == pytest.approx(expected, rel=1e-15)
    for s in (0.1, 0.212, 1.0, 2.3065, 17.0, 365.0, 36500.0):
        assert fsrs6.forgetting_curve(s, s) == pytest.approx(0.9, rel=1e-12)


@pytest.mark.parametrize(
    ("t", "s", "expected"),
    [
        (0, 1, 1.0),
        (1, 1, 0.9),
        (2, 1, 0.845884645149),
        (10, 2.3065, 0.774366916761),
        (30, 10, 0.809388103573),
        (365, 100, 0.790896987589),
        (0.5, 0.212, 0.831379443354),
        (-3, 5, 1.0),  # clock skew counts as no time
    ],
)
def test_forgetting_curve(t: float, s: float, expected: float) -> None:
    assert fsrs6.forgetting_curve(t, s) == pytest.approx(expected, rel=1e-11)
    assert ref.r_of(t, s) == pytest.approx(expected, rel=1e-11)


@pytest.mark.parametrize(("grade", "s0"), [(1, 0.212), (2, 1.2931), (3, 2.3065), (4, 8.2956)])
def test_initial_stability(grade: int, s0: float) -> None:
    assert fsrs6.initial_stability(grade) == s0


@pytest.mark.parametrize(
    ("grade", "unclamped", "clamped"),
    [
        (1, 6.4133, 6.4133),
        (2, 5.112170705601055, 5.112170705601055),
        (3, 2.118103970459015, 2.118103970459015),
        (4, -4.771630703161737, 1.0),
    ],
)
def test_initial_difficulty(grade: int, unclamped: float, clamped: float) -> None:
    assert fsrs6.initial_difficulty(grade, clamp=False) == pytest.approx(unclamped, rel=REL)
    assert fsrs6.initial_difficulty(grade) == pytest.approx(clamped, rel=REL)
    assert ref.d0(grade) == pytest.approx(unclamped, rel=REL)


@pytest.mark.parametrize(
    ("d", "grade", "expected"),
    [
        (1, 1, 7.026989569297),
        (1, 2, 4.010608969297),
        (1, 3, 1.0),  # mean reversion pulls below 1: clamped
        (1, 4, 1.0),
        (5, 1, 8.341762369297),
        (5, 2, 6.665995369297),
        (5, 3, 4.990228369297),
        (5, 4, 3.314461369297),
        (9.5, 1, 9.820881769297),
        (9.5, 4, 9.318151669297),
        (10, 1, 9.985228369297),  # linear damping: no step at D = 10, only mean reversion
        (10, 4, 9.985228369297),
    ],
)
def test_next_difficulty(d: float, grade: int, expected: float) -> None:
    assert fsrs6.next_difficulty(d, grade) == pytest.approx(expected, rel=REL)
    assert ref.d_next(d, grade) == pytest.approx(expected, rel=REL)


@pytest.mark.parametrize(
    ("d", "s", "r", "grade", "expected"),
    [
        (5, 3, 0.9, 3, 11.075750106178),
        (5, 3, 0.9, 2, 7.856756113855),  # hard penalty w15
        (5, 3, 0.9, 4, 18.125072373861),  # easy bonus w16
        (2.1183, 2.3065, 0.8, 3, 22.306918140565),
        (8, 30, 0.5, 3, 192.334397350831),
        (1, 100, 0.95, 4, 329.591029108247),
        (10, 0.5, 0.7, 2, 1.091959040829),
    ],
)
def test_recall_stability(d: float, s: float, r: float, grade: int, expected: float) -> None:
    assert fsrs6.recall_stability(d, s, r, grade) == pytest.approx(expected, rel=REL)
    assert ref.s_recall(d, s, r, grade) == pytest.approx(expected, rel=REL)


@pytest.mark.parametrize(
    ("d", "s", "r", "expected"),
    [
        (5, 3, 0.9, 0.696856478484),
        (8, 30, 0.5, 4.365561460039),
        (1, 100, 0.95, 3.809266736001),
        (10, 0.5, 0.7, 0.237541063798),
        (5, 0.2, 0.9, 0.077809765644),
        (3, 1000, 0.3, 22.637059323631),
        (1, 0.2, 0.01, 0.190345599867),  # capped at S / e^(w17 * w18)
        (2, 0.5, 0.2, 0.475863999667),  # capped
    ],
)
def test_forget_stability(d: float, s: float, r: float, expected: float) -> None:
    assert fsrs6.forget_stability(d, s, r) == pytest.approx(expected, rel=REL)
    assert ref.s_forget(d, s, r) == pytest.approx(expected, rel=REL)
    assert fsrs6.forget_stability(d, s, r) <= s / math.exp(0.5425 * 0.0912) * (1 + 1e-12)


@pytest.mark.parametrize(
    ("s", "grade", "expected"),
    [
        (1, 1, 0.355040291061),
        (1, 2, 0.610776610251),  # same-day Hard lowers stability (py-fsrs floors it at S)
        (1, 3, 1.050720374623),
        (1, 4, 1.807556620733),
        (0.5, 3, 0.549876211505),
        (10, 3, 10.0),  # factor below 1 for G >= 3: floored at 1
        (10000, 4, 10000.0),
        (2.3065, 2, 1.333378716804),
        (3, 4, 5.044505343175),
    ],
)
def test_short_term_stability(s: float, grade: int, expected: float) -> None:
    assert fsrs6.short_term_stability(s, grade) == pytest.approx(expected, rel=REL)
    assert ref.s_same_day(s, grade) == pytest.approx(expected, rel=REL)


@pytest.mark.parametrize("s", [0.1, 1.0, 2.3065, 42.0, 3650.0])
@pytest.mark.parametrize("retention", [0.5, 0.8, 0.9, 0.95, 0.99])
def test_interval_inverts_the_curve(s: float, retention: float) -> None:
    t = fsrs6.interval_days(s, retention)
    assert fsrs6.forgetting_curve(t, s) == pytest.approx(retention, rel=1e-12)


def test_interval_at_0_9_is_the_stability() -> None:
    assert fsrs6.interval_days(7.5) == pytest.approx(7.5, rel=1e-12)


@pytest.mark.parametrize(
    ("value", "expected"), [(0.001, 0.1), (0.1, 0.1), (5.0, 5.0), (36500.0, 36500.0), (1e6, 36500.0)]
)
def test_clamp_stability(value: float, expected: float) -> None:
    assert fsrs6.clamp_stability(value) == expected


@pytest.mark.parametrize(("value", "expected"), [(-4.7, 1.0), (1.0, 1.0), (5.5, 5.5), (10.0, 10.0), (11, 10.0)])
def test_clamp_difficulty(value: float, expected: float) -> None:
    assert fsrs6.clamp_difficulty(value) == expected
