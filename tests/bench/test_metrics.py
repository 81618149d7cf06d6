"""Retrieval metrics, hand-computed."""

from __future__ import annotations

import math

from bench.metrics import hit_at_k, ndcg_at_k, recall_at_k


def test_recall() -> None:
    ranked = ["a", "b", "c", "d"]
    assert recall_at_k(ranked, {"b", "d"}, 1) == 0.0
    assert recall_at_k(ranked, {"b", "d"}, 2) == 0.5
    assert recall_at_k(ranked, {"b", "d"}, 10) == 1.0
    assert recall_at_k(ranked, {"z"}, 10) == 0.0
    assert recall_at_k(ranked, set(), 10) == 0.0


def test_hit() -> None:
    assert hit_at_k(["a", "b"], {"b"}, 1) == 0.0
    assert hit_at_k(["a", "b"], {"b"}, 2) == 1.0
    assert hit_at_k([], {"b"}, 2) == 0.0


def test_ndcg() -> None:
    # Relevant at ranks 2 and 4 of two relevant: DCG = 1/log2(3) + 1/log2(5); IDCG = 1 + 1/log2(3).
    expected = (1 / math.log2(3) + 1 / math.log2(5)) / (1 + 1 / math.log2(3))
    assert math.isclose(ndcg_at_k(["a", "b", "c", "d"], {"b", "d"}, 10), expected)
    assert ndcg_at_k(["b", "d"], {"b", "d"}) == 1.0
    assert ndcg_at_k(["a"], {"b"}) == 0.0
    assert ndcg_at_k(["a"], set()) == 0.0
    # Only the first k count; the ideal is capped by k too (3 relevant, k = 1).
    assert ndcg_at_k(["x", "a"], {"a", "b", "c"}, 1) == 0.0
    assert ndcg_at_k(["a", "x"], {"a", "b", "c"}, 1) == 1.0
    # A repeated relevant id counts once: DCG = 1, IDCG = 1 + 1/log2(3).
    assert math.isclose(ndcg_at_k(["a", "a"], {"a", "b"}), 1 / (1 + 1 / math.log2(3)))
