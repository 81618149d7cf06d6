"""An independent FSRS-6 reference for the tests, written from the published formulas.

Deliberately written apart from ``engram_core.decay`` (different shape: one function per review, the
weights indexed as ``W[i]``) so that the table-driven tests compare two implementations of the formulas.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# FSRS-6 default weights w0..w20, as published.
W = [0.212, 1.2931, 2.3065, 8.2956, 6.4133, 0.8334, 3.0194, 0.001, 1.8722, 0.1666, 0.796,
     1.4835, 0.0614, 0.2629, 1.6483, 0.6014, 1.8729, 0.5425, 0.0912, 0.0658, 0.1542]  # fmt: skip
S_LO, S_HI = 0.1, 36500.0


def r_of(t: float, s: float) -> float:
    factor = math.pow(0.9, -1 / W[20]) - 1
    return math.exp(-W[20] * math.log1p(factor * max(t, 0.0) / s))


def s0(g: int) -> float:
    return W[g - 1]


def d0(g: int) -> float:
    return W[4] - math.exp(W[5] * (g - 1)) + 1


def d_next(d: float, g: int) -> float:
    d_prime = d + (-W[6] * (g - 3)) * (10 - d) / 9
    return min(10.0, max(1.0, W[7] * d0(4) + (1 - W[7]) * d_prime))


def s_recall(d: float, s: float, r: float, g: int) -> float:
    bonus = {2: W[15], 3: 1.0, 4: W[16]}[g]
    return s * (math.exp(W[8]) * (11 - d) * s ** -W[9] * (math.exp(W[10] * (1 - r)) - 1) * bonus + 1)


def s_forget(d: float, s: float, r: float) -> float:
    value = W[11] * d ** -W[12] * ((s + 1) ** W[13] - 1) * math.exp(W[14] * (1 - r))
    return min(value, s / math.exp(W[17] * W[18]))


def s_same_day(s: float, g: int) -> float:
    sinc = math.exp(W[17] * (g - 3 + W[18])) * s ** -W[19]
    return s * (max(sinc, 1.0) if g >= 3 else sinc)


@dataclass
class Ref:
    s: float
    d: float
    state: str
    reps: int
    lapses: int
    t: float  # time of the last review, in days


def ref_first(g: int, t: float) -> Ref:
    return Ref(min(S_HI, max(S_LO, s0(g))), min(10.0, max(1.0, d0(g))),
               "review" if g >= 3 else "learning", 1, 0, t)  # fmt: skip


def ref_review(c: Ref, g: int, t: float) -> Ref:
    dt = t - c.t
    r = r_of(dt, c.s)
    if dt < 1:
        s = s_same_day(c.s, g)
    elif g == 1:
        s = s_forget(c.d, c.s, r)
    else:
        s = s_recall(c.d, c.s, r, g)
    state = {"review": "relearning" if g == 1 else "review"}.get(c.state, "review" if g >= 3 else c.state)
    lapses = c.lapses + (1 if c.state == "review" and g == 1 else 0)
    return Ref(min(S_HI, max(S_LO, s)), d_next(c.d, g), state, c.reps + 1, lapses, t)
