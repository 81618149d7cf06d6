"""Server-side graph layout: communities drawn as separate groups, deterministic, nodes kept apart, cheap."""

from __future__ import annotations

import math
import random
import time

from engram_core.graph.layout import FORCE_MAX, SPACING, layout
from engram_core.graph.positions import LayoutCache


def _clustered(groups: int, size: int, seed: int = 1) -> tuple[list[tuple[int, int | None]], list[tuple[int, int]]]:
    """``groups`` communities of ``size`` nodes, each a ring plus random chords, and a few links across."""
    pick = random.Random(seed)
    nodes = [(g * size + i, g) for g in range(groups) for i in range(size)]
    edges = [(g * size + i, g * size + (i + 1) % size) for g in range(groups) for i in range(size)]
    edges += [
        (g * size + pick.randrange(size), g * size + pick.randrange(size)) for g in range(groups) for _ in range(size)
    ]
    edges += [(pick.randrange(groups * size), pick.randrange(groups * size)) for _ in range(groups)]
    return nodes, edges


def _span(points: list[tuple[float, float]]) -> tuple[float, float, float, float]:
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    return min(xs), min(ys), max(xs), max(ys)


def test_each_community_is_its_own_group_and_groups_never_overlap() -> None:
    nodes, edges = _clustered(6, 12)
    at = layout(nodes, edges)
    assert set(at) == {n for n, _ in nodes} and all(math.isfinite(v) for p in at.values() for v in p)
    boxes = [_span([at[n] for n, c in nodes if c == g]) for g in range(6)]
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert a[2] < b[0] or b[2] < a[0] or a[3] < b[1] or b[3] < a[1], (a, b)  # disjoint bounding boxes
    same = [math.dist(at[a], at[b]) for a, ca in nodes for b, cb in nodes if a < b and ca == cb]
    other = [math.dist(at[a], at[b]) for a, ca in nodes for b, cb in nodes if a < b and ca != cb]
    assert sum(same) / len(same) * 3 < sum(other) / len(other)


def test_same_graph_same_picture_and_nodes_kept_apart() -> None:
    nodes, edges = _clustered(4, 20, seed=3)
    first = layout(nodes, edges)
    assert layout(list(nodes), list(reversed(edges))) == first  # edge order does not matter
    assert layout(nodes, edges, seed=7) != first
    closest = min(math.dist(first[a], first[b]) for a, _ in nodes for b, _ in nodes if a < b)
    assert closest >= SPACING / 2  # pushed towards SPACING, within twice the group's radius


def test_singletons_unassigned_nodes_and_a_huge_community() -> None:
    huge = FORCE_MAX + 50
    nodes: list[tuple[int, int | None]] = [(i, 0) for i in range(huge)] + [
        (huge, None),
        (huge + 1, None),
        (huge + 2, 5),
    ]
    at = layout(nodes, [(i, i + 1) for i in range(huge - 1)] + [(huge, huge + 1), (0, 999_999)])  # one end unknown
    assert set(at) == {n for n, _ in nodes}
    mid = (sum(at[i][0] for i in range(huge)) / huge, sum(at[i][1] for i in range(huge)) / huge)
    assert min(range(huge), key=lambda i: math.dist(at[i], mid)) == 0  # the first (best-ranked) at the centre
    assert math.dist(at[huge], at[huge + 1]) >= SPACING * 0.99
    assert layout([], []) == {}


def test_three_hundred_nodes_in_well_under_a_second() -> None:
    nodes, edges = _clustered(50, 6)
    started = time.perf_counter()
    layout(nodes, edges)
    assert time.perf_counter() - started < 1.0  # about 30 ms on the project's machine


def test_the_cache_is_per_user_and_per_graph() -> None:
    cache = LayoutCache(size=2)
    nodes, edges = [(1, 0), (2, 0)], [(1, 2)]
    key = cache.key(7, nodes, edges)
    assert cache.key(7, nodes, list(reversed(edges))) == key
    assert cache.key(8, nodes, edges) != key and cache.key(7, [(1, 0), (2, 1)], edges) != key
    assert cache.key(7, nodes, [*edges, (2, 1)]) != key
    cache.put(key, {1: (0.0, 0.0), 2: (1.0, 1.0)})
    assert cache.get(key) == {1: (0.0, 0.0), 2: (1.0, 1.0)}
    cache.put(("x", 1), {})  # type: ignore[arg-type]
    cache.get(key)  # key is now the most recently used
    cache.put(("y", 2), {})  # type: ignore[arg-type]
    assert cache.get(key) is not None and cache.get(("x", 1)) is None  # type: ignore[arg-type]
