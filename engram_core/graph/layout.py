"""Node positions for drawing a memory graph, communities as groups. No I/O.

Each community of the given nodes is laid out on its own (nodes without a community form one more group) and
the groups are then packed side by side in rows, largest first, so a community reads as one cluster and no two
clusters overlap. Inside a group of at most ``FORCE_MAX`` nodes: a seeded Fruchterman-Reingold layout over the
group's own links (nodes repel, links pull), so the same graph always gets the same picture. Groups of similar
size are solved together, padded into one ``(groups, m, m)`` array pass per iteration (a call per small
community would cost more in overhead than in work), at most ``FORCE_MAX**2`` pairs a batch. Larger groups,
where the all-pairs forces grow too costly, go on a sunflower spiral in the order given (highest PageRank
first: the best-ranked nodes at the centre). A group's radius grows with the square root of its size, so nodes
stay about ``SPACING`` apart (a group is widened until its closest pair is, up to twice its radius).

Positions are in drawing units (Cytoscape's model pixels), rounded to one decimal.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np

__all__ = ["FORCE_MAX", "SPACING", "Positions", "layout"]

Positions = dict[int, tuple[float, float]]  # memory id -> (x, y)
#: Most nodes solved together by the force-directed layout (its arrays are n x n); a larger group is a spiral.
FORCE_MAX = 200
#: About the distance between neighbouring nodes, in drawing units.
SPACING = 50.0
_GAP = 1.0  # between two groups, in SPACINGs
_ASPECT = 2.0  # the packed groups fill an area about twice as wide as tall, like a screen's graph pane
_ITERATIONS = 60
_GOLDEN = math.pi * (3 - math.sqrt(5))


def _radius(size: int) -> float:
    return SPACING * 0.6 * math.sqrt(size) + SPACING / 2


def _spiral(members: Sequence[int]) -> Positions:
    out = {}
    for i, node in enumerate(members):
        r = SPACING * 0.6 * math.sqrt(i + 0.5) if i else 0.0
        out[node] = (r * math.cos(i * _GOLDEN), r * math.sin(i * _GOLDEN))
    return out


def _force_directed(groups: list[list[int]], links: list[tuple[int, int]], seed: int) -> Positions:
    """Fruchterman-Reingold for groups of similar size at once, padded to the largest (``(groups, m, m)``
    arrays), each in its own frame around (0, 0) scaled to the group's radius: nodes repel within their group,
    links (all within a group) pull."""
    m = max(len(g) for g in groups)
    where = {node: (g, i) for g, group in enumerate(groups) for i, node in enumerate(group)}
    real = np.zeros((len(groups), m), dtype=bool)
    for g, group in enumerate(groups):
        real[g, : len(group)] = True
    pairs = real[:, :, None] & real[:, None, :] & ~np.eye(m, dtype=bool)
    adjacent = np.zeros((len(groups), m, m))
    for source, target in links:
        (g, i), (_, j) = where[source], where[target]
        adjacent[g, i, j] = adjacent[g, j, i] = 1.0
    k = 1.0 / np.sqrt(real.sum(axis=1, dtype=float))[:, None, None]  # the ideal distance in a unit-sized group
    pos = np.random.default_rng(seed).uniform(-1.0, 1.0, (len(groups), m, 2))
    step = 0.1
    for _ in range(_ITERATIONS):
        delta = pos[:, :, None, :] - pos[:, None, :, :]
        dist = np.maximum(np.sqrt((delta**2).sum(axis=3)), 0.01)
        force = np.where(pairs, k * k / dist**2 - adjacent * dist / k, 0.0)  # times delta: along it, over dist
        move = (delta * force[..., None]).sum(axis=2)
        length = np.maximum(np.sqrt((move**2).sum(axis=2)), 1e-9)
        pos += move * (np.minimum(length, step) / length)[..., None]
        step -= 0.1 / (_ITERATIONS + 1)
    out: Positions = {}
    for g, group in enumerate(groups):
        rows = pos[g, : len(group)]
        rows = rows - rows.mean(axis=0)
        reach = float(np.sqrt((rows**2).sum(axis=1)).max())
        gaps = np.sqrt(((rows[:, None, :] - rows[None, :, :]) ** 2).sum(axis=2)) + np.eye(len(group)) * 1e9
        # the group's radius for its size, but wider if that would put two nodes closer than SPACING (at most 2x)
        scale = (_radius(len(group)) - SPACING / 2) / reach if reach > 0 else 0.0
        scale = min(max(scale, SPACING / max(float(gaps.min()), 1e-9)), 2 * scale)
        out.update({node: (float(x) * scale, float(y) * scale) for node, (x, y) in zip(group, rows, strict=True)})
    return out


def _pack(radii: list[float]) -> list[tuple[float, float]]:
    """Centres for circles of ``radii`` (largest first), filled into rows of an area ``_ASPECT`` times as wide as
    it is tall."""
    cells = [2 * r + _GAP * SPACING for r in radii]
    width = max([*cells, math.sqrt(sum(c * c for c in cells) * _ASPECT) * 1.05])
    centres, x, y, row = [], 0.0, 0.0, 0.0
    for cell in cells:
        if x and x + cell > width:
            x, y, row = 0.0, y + row, 0.0
        centres.append((x + cell / 2, y + cell / 2))
        x += cell
        row = max(row, cell)
    return centres


def layout(nodes: Sequence[tuple[int, int | None]], edges: Iterable[tuple[int, int]], *, seed: int = 42) -> Positions:
    """``{node: (x, y)}`` for ``nodes`` given as ``(id, community or None)`` (in drawing order: a spiral puts
    the first at its group's centre) and the ``edges`` among them (edges to unknown nodes are ignored).

    Deterministic for the same input and ``seed``. Links between communities move nothing: each community is
    placed by its own links only."""
    group_of = {node: community for node, community in nodes}
    groups: dict[int | None, list[int]] = {}
    for node, community in nodes:
        groups.setdefault(community, []).append(node)
    inner: list[tuple[int, int]] = [
        (s, t) for s, t in edges if s != t and s in group_of and t in group_of and group_of[s] == group_of[t]
    ]
    order = sorted(groups, key=lambda c: (-len(groups[c]), c is None, c or 0))
    placed: Positions = {}
    batch: list[list[int]] = []
    for community in order:
        members = groups[community]
        if len(members) > FORCE_MAX:
            placed.update(_spiral(members))
        elif len(members) == 1:
            placed[members[0]] = (0.0, 0.0)
        else:
            m = len(batch[0]) if batch else 0  # the batch's largest: its arrays are (groups, m, m)
            if batch and (2 * len(members) < m or (len(batch) + 1) * m * m > FORCE_MAX**2):
                placed.update(_solve(batch, inner, group_of, seed))
                batch = []
            batch.append(members)
    placed.update(_solve(batch, inner, group_of, seed))
    reach = {c: max(math.hypot(*placed[n]) for n in groups[c]) + SPACING / 2 for c in order}  # each one's radius
    order.sort(key=lambda c: (-reach[c], c is None, c or 0))
    out: Positions = {}
    for community, (cx, cy) in zip(order, _pack([reach[c] for c in order]), strict=True):
        for node in groups[community]:
            x, y = placed[node]
            out[node] = (round(cx + x, 1), round(cy + y, 1))
    return out


def _solve(
    batch: list[list[int]], links: list[tuple[int, int]], group_of: dict[int, int | None], seed: int
) -> Positions:
    if not batch:
        return {}
    inside = {group_of[g[0]] for g in batch}
    return _force_directed(batch, [(s, t) for s, t in links if group_of[s] in inside], seed)
