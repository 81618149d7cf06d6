"""The FSRS-6 formulas with the 21 default weights, as pure functions of floats.

Everything here follows the published FSRS-6 equations (the reference being the open-spaced-repetition
``fsrs-rs`` implementation); ``review.py`` strings them together into a state machine. Grades are
1 = Again, 2 = Hard, 3 = Good, 4 = Easy. Times are in days.

Where the ``fsrs`` Python package (py-fsrs 6.3.2) differs from these formulas, this module follows the
formulas:

1. **Same-day Hard.** FSRS-6 only floors the short-term stability increase at 1 for grades >= 3
   (``fsrs-rs``: ``sinc.mask_where(rating >= 3, sinc.clamp_min(1))``). py-fsrs applies the floor to Hard
   (grade 2) too, so a same-day Hard never lowers stability there; here it does (by ~0.61x at S = 1).
2. **Elapsed time.** py-fsrs measures elapsed time in whole days (``timedelta.days``, truncated) for the
   retrievability it feeds into the stability update and in ``get_card_retrievability``; here elapsed
   time is fractional (seconds / 86400), so R decays continuously through the day.
3. **Stability bounds.** py-fsrs clamps stability below at 0.001 and not above (its 36500-day cap is on
   the interval). Here stability is clamped to [``STABILITY_MIN``, ``STABILITY_MAX``] = [0.1, 36500]
   days; see ``STABILITY_MIN`` for why 0.1.

With fractional elapsed time replaced by whole days and away from the bounds and same-day Hard, the
numbers agree with py-fsrs to float precision (a test checks this).
"""

from __future__ import annotations

import math

__all__ = [
    "DECAY",
    "DEFAULT_WEIGHTS",
    "DIFFICULTY_MAX",
    "DIFFICULTY_MIN",
    "FACTOR",
    "STABILITY_MAX",
    "STABILITY_MIN",
    "clamp_difficulty",
    "clamp_stability",
    "forget_stability",
    "forgetting_curve",
    "initial_difficulty",
    "initial_stability",
    "interval_days",
    "next_difficulty",
    "recall_stability",
    "short_term_stability",
]

#: The 21 default FSRS-6 weights w0..w20 (w20 is the decay of the power forgetting curve).
DEFAULT_WEIGHTS: tuple[float, ...] = (
    0.212, 1.2931, 2.3065, 8.2956,  # w0-w3: initial stability for grades 1-4
    6.4133, 0.8334,  # w4-w5: initial difficulty
    3.0194,  # w6: difficulty step per grade
    0.001,  # w7: mean reversion weight
    1.8722, 0.1666, 0.796,  # w8-w10: recall stability
    1.4835, 0.0614, 0.2629, 1.6483,  # w11-w14: lapse stability
    0.6014, 1.8729,  # w15: hard penalty, w16: easy bonus
    0.5425, 0.0912, 0.0658,  # w17-w19: short-term (same-day) stability
    0.1542,  # w20: decay
)  # fmt: skip

_W = DEFAULT_WEIGHTS

#: Decay of the forgetting curve (w20).
DECAY: float = _W[20]
#: Chosen so that R(S, S) = 0.9: FACTOR = 0.9^(-1/w20) - 1.
FACTOR: float = math.pow(0.9, -1.0 / DECAY) - 1.0

#: Lowest stability in days. FSRS implementations use 0.001 (86 s); 0.1 day (2.4 h) is used here because
#: a memory server has no minute-level learning steps: after repeated Again grades a memory should fade
#: over hours, not vanish within minutes, and the floor also bounds the S^-w9 / S^-w19 terms.
STABILITY_MIN: float = 0.1
#: Highest stability in days (100 years), the usual FSRS maximum interval.
STABILITY_MAX: float = 36500.0
DIFFICULTY_MIN: float = 1.0
DIFFICULTY_MAX: float = 10.0


def clamp_stability(stability: float) -> float:
    """Clamp a stability to [STABILITY_MIN, STABILITY_MAX] days."""
    return min(max(stability, STABILITY_MIN), STABILITY_MAX)


def clamp_difficulty(difficulty: float) -> float:
    """Clamp a difficulty to [1, 10]."""
    return min(max(difficulty, DIFFICULTY_MIN), DIFFICULTY_MAX)


def forgetting_curve(elapsed_days: float, stability: float) -> float:
    """Retrievability R(t, S) = (1 + FACTOR * t / S)^(-w20); R(0, S) = 1 and R(S, S) = 0.9.

    Negative elapsed times (clock skew) count as 0.
    """
    t = max(elapsed_days, 0.0)
    return math.pow(1.0 + FACTOR * t / stability, -DECAY)


def interval_days(stability: float, desired_retention: float = 0.9) -> float:
    """The elapsed time t at which R(t, S) falls to ``desired_retention`` (the inverse of the curve).

    Not rounded to whole days; ``desired_retention`` must be in (0, 1).
    """
    return stability / FACTOR * (math.pow(desired_retention, -1.0 / DECAY) - 1.0)


def initial_stability(grade: int) -> float:
    """S0(G) = w[G-1]."""
    return _W[grade - 1]


def initial_difficulty(grade: int, *, clamp: bool = True) -> float:
    """D0(G) = w4 - e^(w5 * (G - 1)) + 1, clamped to [1, 10] unless ``clamp`` is false."""
    d0 = _W[4] - math.exp(_W[5] * (grade - 1)) + 1.0
    return clamp_difficulty(d0) if clamp else d0


def next_difficulty(difficulty: float, grade: int) -> float:
    """D after a review: linear damping, then mean reversion towards the unclamped D0(4).

    ΔD = -w6 * (G - 3); D' = D + ΔD * (10 - D) / 9; D'' = w7 * D0(4) + (1 - w7) * D'; clamped to [1, 10].
    """
    delta = -_W[6] * (grade - 3)
    damped = difficulty + delta * (10.0 - difficulty) / 9.0
    reverted = _W[7] * initial_difficulty(4, clamp=False) + (1.0 - _W[7]) * damped
    return clamp_difficulty(reverted)


def recall_stability(difficulty: float, stability: float, retrievability: float, grade: int) -> float:
    """Stability after a successful review (G >= 2) a day or more after the last one (unclamped).

    S'r = S * (e^w8 * (11 - D) * S^-w9 * (e^(w10 * (1 - R)) - 1) * hard_penalty * easy_bonus + 1),
    hard_penalty = w15 if G = 2 else 1, easy_bonus = w16 if G = 4 else 1.
    """
    hard_penalty = _W[15] if grade == 2 else 1.0
    easy_bonus = _W[16] if grade == 4 else 1.0
    increase = (
        math.exp(_W[8])
        * (11.0 - difficulty)
        * math.pow(stability, -_W[9])
        * (math.exp(_W[10] * (1.0 - retrievability)) - 1.0)
        * hard_penalty
        * easy_bonus
    )
    return stability * (increase + 1.0)


def forget_stability(difficulty: float, stability: float, retrievability: float) -> float:
    """Stability after a lapse (G = 1) a day or more after the last review (unclamped).

    S'f = w11 * D^-w12 * ((S + 1)^w13 - 1) * e^(w14 * (1 - R)), at most S / e^(w17 * w18).
    """
    long_term = (
        _W[11]
        * math.pow(difficulty, -_W[12])
        * (math.pow(stability + 1.0, _W[13]) - 1.0)
        * math.exp(_W[14] * (1.0 - retrievability))
    )
    return min(long_term, stability / math.exp(_W[17] * _W[18]))


def short_term_stability(stability: float, grade: int) -> float:
    """Stability after a review less than a day after the last one (unclamped).

    S' = S * e^(w17 * (G - 3 + w18)) * S^-w19, where for G >= 3 the factor is at least 1.
    """
    increase = math.exp(_W[17] * (grade - 3 + _W[18])) * math.pow(stability, -_W[19])
    if grade >= 3:
        increase = max(increase, 1.0)
    return stability * increase
