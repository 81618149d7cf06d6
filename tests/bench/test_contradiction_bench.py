"""The labelled contradiction set is big enough and the detector keeps its precision on it."""

from __future__ import annotations

from collections import Counter

from bench.contradiction_pairs import PAIRS
from bench.contradictions import evaluate


def test_labelled_set_and_precision() -> None:
    labels = Counter(label for _, _, label in PAIRS)
    assert len(PAIRS) >= 100 and set(labels) == {"updating", "contradicting", "compatible", "unrelated"}
    assert min(labels.values()) >= 20
    result = evaluate()
    assert result["fp"] == 0  # a false contradiction down-ranks a true memory: none on the labelled set
    assert float(result["recall"]) >= 0.85  # type: ignore[arg-type]
