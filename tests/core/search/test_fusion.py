"""Weighted RRF, checked against hand-computed numbers."""

from __future__ import annotations

import math

import pytest

from engram_core.errors import Invalid
from engram_core.search.fusion import SCORE_WEIGHT, fuse, minmax, rrf


def test_hand_computed_scores() -> None:
    out = rrf({"vector": [1, 2, 3], "fts": [3, 1]}, {"vector": 1.0, "fts": 0.5}, k=60)
    by_id = {f.id: f for f in out}
    # id 1: vector rank 1 -> 1/61, fts rank 2 -> 0.5/62
    assert math.isclose(by_id[1].score, 1 / 61 + 0.5 / 62)
    # id 3: vector rank 3 -> 1/63, fts rank 1 -> 0.5/61
    assert math.isclose(by_id[3].score, 1 / 63 + 0.5 / 61)
    # id 2: vector rank 2 only -> 1/62
    assert math.isclose(by_id[2].score, 1 / 62)
    assert [f.id for f in out] == [1, 3, 2]
    assert by_id[1].ranks == {"vector": 1, "fts": 2}
    assert by_id[2].ranks == {"vector": 2}
    assert math.isclose(by_id[3].contributions["fts"], 0.5 / 61)
    assert by_id[1].channels == ["fts", "vector"]


def test_missing_weight_is_one_and_small_k() -> None:
    out = rrf({"a": ["x", "y"]}, {}, k=1)
    assert [(f.id, f.score) for f in out] == [("x", 0.5), ("y", 1 / 3)]


def test_zero_weight_keeps_rank_for_explain() -> None:
    out = rrf({"vector": ["a"], "graph": ["b", "a"]}, {"vector": 1.0, "graph": 0.0})
    assert out[0].id == "a" and out[0].ranks == {"vector": 1, "graph": 2}
    assert out[1].id == "b" and out[1].score == 0.0 and out[1].ranks == {"graph": 1}


def test_duplicates_within_a_channel_count_once() -> None:
    out = rrf({"fts": [7, 7, 8]})
    by_id = {f.id: f for f in out}
    assert by_id[7].ranks == {"fts": 1}
    assert by_id[8].ranks == {"fts": 2}
    assert math.isclose(by_id[8].score, 1 / 62)


def test_tie_breaks_are_deterministic() -> None:
    # Same score (rank 1 in one channel each, equal weights): sorted channel order decides ("a" < "b").
    out = rrf({"b": ["from_b"], "a": ["from_a"]})
    assert [f.id for f in out] == ["from_a", "from_b"]
    # Same score, but one id is found by two channels: more channels wins.
    # x: 1/61 + 0 (weight 0 channel) ; y: 1/61 in one channel.
    out = rrf({"a": ["x"], "b": ["y"], "c": ["x"]}, {"c": 0.0})
    assert [f.id for f in out] == ["x", "y"]
    # Reversing the input mapping order changes nothing.
    r1 = rrf({"v": [1, 2, 3], "f": [3, 2, 1]})
    r2 = rrf({"f": [3, 2, 1], "v": [1, 2, 3]})
    assert [f.id for f in r1] == [f.id for f in r2]


def test_mixed_id_types_do_not_need_ordering() -> None:
    out = rrf({"a": [1, "1", (1,)]})
    assert [f.id for f in out] == [1, "1", (1,)]


def test_limit_and_empty() -> None:
    assert rrf({}) == []
    assert rrf({"a": []}) == []
    assert len(rrf({"a": [1, 2, 3]}, limit=2)) == 2


@pytest.mark.parametrize("bad", [{"a": -1.0}, {"a": float("nan")}, {"a": float("inf")}])
def test_bad_weights(bad: dict[str, float]) -> None:
    with pytest.raises(Invalid):
        rrf({"a": [1]}, bad)


def test_bad_k() -> None:
    with pytest.raises(Invalid):
        rrf({"a": [1]}, k=0)


# -- score-aware fusion (RRF + normalised score term) ---------------------------------------------------


def test_minmax_maps_best_to_one_and_worst_to_zero() -> None:
    assert minmax([10.0, 5.0, 0.0]) == [1.0, 0.5, 0.0]
    assert minmax([3.0, 3.0]) == [1.0, 1.0]
    assert minmax([2.0]) == [1.0]
    assert minmax([]) == []
    assert minmax([float("nan"), 4.0, 2.0]) == [0.0, 1.0, 0.0]


def test_fuse_without_score_weight_is_plain_rrf() -> None:
    hits = {"fts": [(1, 9.0), (2, 1.0)], "vector": [(2, 0.9), (3, 0.2)]}
    plain = rrf({c: [i for i, _ in h] for c, h in hits.items()}, {"fts": 1.0, "vector": 0.5})
    fused = fuse(hits, {"fts": 1.0, "vector": 0.5}, score_weight=0.0)
    assert [(f.id, f.score) for f in fused] == [(f.id, f.score) for f in plain]


def test_fuse_keeps_a_clear_winner_above_a_mediocre_agreement() -> None:
    # id 1 is far ahead in BM25; id 2 is a weak second in both channels. Plain RRF puts 2 first.
    hits = {"fts": [(1, 20.0), (2, 2.0), (4, 1.0)], "vector": [(3, 0.6), (2, 0.31), (5, 0.3)]}
    weights = {"fts": 1.0, "vector": 0.5}
    assert rrf({c: [i for i, _ in h] for c, h in hits.items()}, weights)[0].id == 2
    fused = fuse(hits, weights)
    assert fused[0].id == 1
    top = fused[0]
    assert top.contributions["fts"] == pytest.approx(1 / 61 + SCORE_WEIGHT * 1.0)
    assert top.score == pytest.approx(sum(top.contributions.values()))


def test_fuse_score_term_only_for_relevance_channels() -> None:
    fused = fuse({"graph": [(1, 100.0), (2, 1.0)]})
    assert [f.score for f in fused] == pytest.approx([1 / 61, 1 / 62])
    fused = fuse({"graph": [(1, 100.0), (2, 1.0)]}, scored={"graph"})
    assert fused[0].score == pytest.approx(1 / 61 + SCORE_WEIGHT)


def test_fuse_counts_a_repeated_id_once_and_rejects_bad_weights() -> None:
    fused = fuse({"fts": [(7, 5.0), (7, 5.0), (8, 1.0)]})
    assert fused[0].id == 7 and fused[0].score == pytest.approx(1 / 61 + SCORE_WEIGHT)
    with pytest.raises(Invalid):
        fuse({"fts": [(1, 1.0)]}, score_weight=-1.0)
    with pytest.raises(Invalid):
        fuse({"fts": [(1, 1.0)]}, score_weight=float("nan"))
