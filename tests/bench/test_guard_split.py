"""The guard's held-out split is disjoint from the tuning set and labelled with the three signals."""

from __future__ import annotations

from collections import Counter

from bench.guard_set import CASES, HELD_OUT_CASES, HELD_OUT_RULES, RULES


def test_held_out_split_is_disjoint_and_labelled() -> None:
    assert not {a for a, _ in CASES} & {a for a, _ in HELD_OUT_CASES}
    assert not {str(r["content"]) for r in RULES} & {str(r["content"]) for r in HELD_OUT_RULES}
    labels = Counter(label for _, label in HELD_OUT_CASES)
    assert set(labels) == {"block", "warn", "allow"} and len(HELD_OUT_CASES) >= 20
