"""PageRank and Louvain over memory link rows."""

from __future__ import annotations

import random

import networkx as nx
import pytest

from engram_core.graph import (
    TYPE_WEIGHTS,
    EdgeRow,
    build_graph,
    communities,
    edge_weight,
    pagerank,
    to_undirected,
)


@pytest.mark.parametrize(
    ("link_type", "weight", "expected"),
    [
        ("caused_by", 1.0, 2.0),
        ("updates", 1.0, 1.5),
        ("corrects", 0.5, 0.75),
        ("extends", 1.0, 1.3),
        ("contradicts", 2.0, 2.6),
        ("similar", 0.7, 0.7),
        ("CAUSED_BY", 1.0, 2.0),
    ],
)
def test_edge_weight(link_type: str, weight: float, expected: float) -> None:
    assert edge_weight(link_type, weight) == pytest.approx(expected)


def test_type_weights_table() -> None:
    assert dict(TYPE_WEIGHTS) == {
        "caused_by": 2.0, "updates": 1.5, "corrects": 1.5, "extends": 1.3, "contradicts": 1.3,
    }  # fmt: skip


def test_build_graph_sums_parallel_rows_and_skips_bad_ones() -> None:
    g = build_graph(
        [
            (1, 2, "similar", 0.5),
            (1, 2, "caused_by", 1.0),  # same pair: adds up
            (2, 1, "similar", 0.25),  # opposite direction: its own edge
            (3, 3, "similar", 1.0),  # self-link ignored, node kept
            (4, 5, "similar", 0.0),  # zero weight ignored, nodes kept
            (5, 6, "similar", float("nan")),
        ],
        nodes=[7],
    )
    assert set(g.nodes) == {1, 2, 3, 4, 5, 6, 7}
    assert g[1][2]["weight"] == pytest.approx(2.5)
    assert g[2][1]["weight"] == pytest.approx(0.25)
    assert g.number_of_edges() == 2
    undirected = to_undirected(g)
    assert undirected[1][2]["weight"] == pytest.approx(2.75)


def test_empty_graph() -> None:
    assert pagerank([]) == {}
    assert communities([]) == {}
    assert pagerank(nx.DiGraph()) == {}


def test_graph_without_edges() -> None:
    assert pagerank([], nodes=["a", "b", "c"]) == pytest.approx({"a": 1.0, "b": 1.0, "c": 1.0})
    assert communities([], nodes=["a", "b", "c"]) == {"a": 0, "b": 1, "c": 2}


def test_hub_ranks_above_leaves_and_max_is_one() -> None:
    edges: list[EdgeRow] = [(f"leaf{i}", "hub", "similar", 1.0) for i in range(8)]
    edges.append(("hub", "leaf0", "similar", 1.0))
    scores = pagerank(edges, nodes=["lonely"])
    assert scores["hub"] == 1.0
    assert max(scores.values()) == 1.0
    assert all(scores["hub"] > scores[f"leaf{i}"] for i in range(8))
    assert scores["leaf0"] > scores["leaf1"]  # the hub links back to leaf0
    assert 0 < scores["lonely"] < scores["hub"]


def test_raw_scores_sum_to_one() -> None:
    edges: list[EdgeRow] = [(1, 2, "similar", 1.0), (2, 3, "extends", 1.0), (3, 1, "similar", 0.5)]
    raw = pagerank(edges, normalize=False)
    assert sum(raw.values()) == pytest.approx(1.0)
    normalised = pagerank(edges)
    top = max(raw.values())
    assert normalised == pytest.approx({n: s / top for n, s in raw.items()})


def test_pagerank_matches_networkx_with_weights() -> None:
    edges: list[EdgeRow] = [(1, 2, "caused_by", 0.5), (2, 3, "updates", 1.0), (3, 1, "extends", 2.0),
                            (3, 4, "similar", 1.0), (4, 2, "contradicts", 1.0)]  # fmt: skip
    expected = nx.DiGraph()
    for s, t, kind, w in edges:
        expected.add_edge(s, t, weight=TYPE_WEIGHTS.get(kind, 1.0) * w)
    assert pagerank(edges, normalize=False) == pytest.approx(nx.pagerank(expected, alpha=0.85), rel=1e-6)


@pytest.mark.parametrize("link_type", ["caused_by", "updates", "corrects", "extends", "contradicts"])
def test_typed_link_gives_its_target_more_rank(link_type: str) -> None:
    # "src" links to both targets with the same link weight; only the type differs.
    edges: list[EdgeRow] = [("src", "typed", link_type, 1.0), ("src", "plain", "similar", 1.0)]
    edges += [(f"feeder{i}", "src", "similar", 1.0) for i in range(3)]
    scores = pagerank(edges)
    assert scores["typed"] > scores["plain"]


def test_caused_by_beats_extends() -> None:
    edges: list[EdgeRow] = [
        ("s", "a", "caused_by", 1.0),
        ("s", "b", "extends", 1.0),
        ("x", "s", "similar", 1),
    ]
    scores = pagerank(edges)
    assert scores["a"] > scores["b"]


def test_damping_changes_scores() -> None:
    edges: list[EdgeRow] = [(i, 0, "similar", 1.0) for i in range(1, 6)]
    assert pagerank(edges, damping=0.5)[1] > pagerank(edges, damping=0.85)[1]


def _two_clusters(rng: random.Random) -> list[EdgeRow]:
    edges: list[EdgeRow] = []
    for prefix in ("a", "b"):
        members = [f"{prefix}{i}" for i in range(10)]
        for i, u in enumerate(members):
            for v in members[i + 1 :]:
                if rng.random() < 0.6:
                    edges.append((u, v, "similar", 1.0))
    return edges


def test_disconnected_clusters_get_different_communities() -> None:
    edges = _two_clusters(random.Random(5))
    parts = communities(edges, nodes=["alone"])
    a = {parts[f"a{i}"] for i in range(10)}
    b = {parts[f"b{i}"] for i in range(10)}
    assert len(a) == 1 and len(b) == 1 and a != b
    assert parts["alone"] not in a | b


def test_community_ids_are_by_size() -> None:
    big = [(f"big{i}", f"big{j}", "similar", 1.0) for i in range(6) for j in range(i + 1, 6)]
    small = [("s0", "s1", "similar", 1.0), ("s1", "s2", "similar", 1.0), ("s0", "s2", "similar", 1.0)]
    parts = communities(small + big)  # the small one comes first in the input
    assert {parts[f"big{i}"] for i in range(6)} == {0}
    assert {parts[f"s{i}"] for i in range(3)} == {1}


def test_communities_are_deterministic() -> None:
    rng = random.Random(11)
    edges: list[EdgeRow] = [(rng.randrange(300), rng.randrange(300), "similar", rng.random() + 0.1)
                            for _ in range(1200)]  # fmt: skip
    first = communities(edges)
    assert all(communities(edges) == first for _ in range(3))
    sizes = [list(first.values()).count(c) for c in range(max(first.values()) + 1)]
    assert sizes == sorted(sizes, reverse=True)


def _groups(parts: dict[object, int]) -> set[frozenset[object]]:
    return {frozenset(n for n, c in parts.items() if c == label) for label in set(parts.values())}


def test_link_direction_does_not_matter_for_communities() -> None:
    edges = _two_clusters(random.Random(8))
    reversed_edges: list[EdgeRow] = [(t, s, kind, w) for s, t, kind, w in edges]
    assert _groups(communities(edges)) == _groups(communities(reversed_edges))


def test_prebuilt_graph_is_accepted_and_not_mutated() -> None:
    g = build_graph([(1, 2, "similar", 1.0)])
    scores = pagerank(g, nodes=[3])
    assert set(scores) == {1, 2, 3}
    assert set(g.nodes) == {1, 2}
    assert set(communities(g, nodes=[3])) == {1, 2, 3}
