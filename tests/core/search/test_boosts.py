"""Post-fusion multipliers and the vector-only floor."""

from __future__ import annotations

import math

import pytest

from engram_core.search.boosts import (
    apply_boosts,
    outdated_penalty,
    pagerank_boost,
    passes_vector_floor,
    retrievability_boost,
    source_count_boost,
    static_boost,
)


@pytest.mark.parametrize(
    ("r", "expected"),
    [(None, 1.0), (1.0, 1.0), (0.0, 0.8), (0.5, 0.9), (2.0, 1.0), (-1, 0.8), (float("nan"), 1.0)],
)
def test_retrievability(r: float | None, expected: float) -> None:
    assert math.isclose(retrievability_boost(r), expected)


def test_source_count() -> None:
    assert source_count_boost(None) == 1.0
    assert source_count_boost(0) == 1.0
    assert source_count_boost(1) == 1.0
    assert math.isclose(source_count_boost(2), 1 + 0.1 * math.log(2))
    assert source_count_boost(10_000) == 1.25
    assert source_count_boost(3) < source_count_boost(5)


def test_static() -> None:
    assert static_boost(True) == 1.2
    assert static_boost(False) == static_boost(None) == 1.0


def test_pagerank() -> None:
    assert pagerank_boost(None) == 1.0
    assert pagerank_boost(0.0) == 1.0  # no links
    assert pagerank_boost(float("nan")) == 1.0
    assert math.isclose(pagerank_boost(0.5), 1.05)  # half as central as the user's most central memory
    assert pagerank_boost(1.0) == 1.1 and pagerank_boost(3.0) == 1.1  # capped


def test_outdated() -> None:
    assert outdated_penalty(False) == 1.0
    assert outdated_penalty(True) == 0.5
    assert outdated_penalty(True, 0.5) == 0.75
    assert outdated_penalty(True, 7.0) == 0.5


def test_apply_boosts_multiplies_and_reports_all() -> None:
    res = apply_boosts(
        0.03,
        retrievability=0.5,
        source_count=1,
        is_static=True,
        pagerank=0.5,
        temporal=1.5,
        is_outdated=True,
    )
    assert set(res.multipliers) == {
        "retrievability",
        "source_count",
        "static",
        "pagerank",
        "temporal",
        "outdated",
        "feedback",
    }
    assert math.isclose(res.score, 0.03 * 0.9 * 1.0 * 1.2 * 1.05 * 1.5 * 0.5)


def test_apply_boosts_neutral() -> None:
    res = apply_boosts(0.02)
    assert res.score == 0.02
    assert all(v == 1.0 for v in res.multipliers.values())
    assert apply_boosts(0.02, temporal=float("nan")).score == 0.02


def test_vector_floor() -> None:
    assert passes_vector_floor({"vector"}, 0.4)
    assert not passes_vector_floor({"vector"}, 0.1)
    assert not passes_vector_floor(["vector"], None)
    assert passes_vector_floor({"vector", "fts"}, 0.01)
    assert passes_vector_floor({"graph"}, None)
    assert passes_vector_floor({"vector"}, 0.1, floor=0.05)
