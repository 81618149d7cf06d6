"""The guard's held-out splits are disjoint from the tuning set and each other, and labelled with the three signals."""

from __future__ import annotations

from collections import Counter

from bench.guard_fresh_set import FRESH_CASES, FRESH_RULES
from bench.guard_set import CASES, HELD_OUT_CASES, HELD_OUT_RULES, RULES


def test_held_out_split_is_disjoint_and_labelled() -> None:
    assert not {a for a, _ in CASES} & {a for a, _ in HELD_OUT_CASES}
    assert not {str(r["content"]) for r in RULES} & {str(r["content"]) for r in HELD_OUT_RULES}
    labels = Counter(label for _, label in HELD_OUT_CASES)
    assert set(labels) == {"block", "warn", "allow"} and len(HELD_OUT_CASES) >= 20


def test_fresh_split_is_disjoint_from_both_and_labelled() -> None:
    for cases, rules in ((CASES, RULES), (HELD_OUT_CASES, HELD_OUT_RULES)):
        assert not {a for a, _ in cases} & {a for a, _ in FRESH_CASES}
        assert not {str(r["content"]) for r in rules} & {str(r["content"]) for r in FRESH_RULES}
    assert len({a for a, _ in FRESH_CASES}) == len(FRESH_CASES)  # no action twice
    labels = Counter(label for _, label in FRESH_CASES)
    assert set(labels) == {"block", "warn", "allow"} and len(FRESH_CASES) >= 30
