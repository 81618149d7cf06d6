"""Ranking and clustering of the memory link graph: weighted PageRank and Louvain communities. No I/O.

Input is edge rows ``(source_id, target_id, link_type, weight)`` as the links table holds them, plus,
optionally, every node id (so memories without links still get a score and a community).

* **Edge weight** = ``TYPE_WEIGHTS.get(link_type, 1.0) * weight``: ``caused_by`` 2.0, ``updates`` and
  ``corrects`` 1.5, ``extends`` and ``contradicts`` 1.3, any other type 1.0 (types compared
  case-insensitively). Several rows between the same ordered pair add up. Self-links and rows whose
  weight is not a positive finite number are ignored (their nodes are kept).
* **PageRank** runs on the directed graph (rank flows from source to target, so the target of a
  ``caused_by`` link gains more than the target of a plain one), damping 0.85, networkx's scipy
  implementation. Scores are **normalised so the highest is 1.0** (raw PageRank sums to 1 over the graph,
  which makes scores shrink as a user's graph grows; max-normalised scores are comparable across users
  and sizes and can be used directly as a 0..1 ranking boost). ``normalize=False`` gives raw scores.
* **Communities** come from ``community.best_partition`` (python-louvain) on the undirected graph, where
  the weights of ``a -> b`` and ``b -> a`` add up, with a fixed ``random_state`` so that the same input
  (in the same order) always gives the same partition. Community ids are relabelled by size: 0 is the
  largest, ties broken by which community's first node comes first in the graph. Isolated nodes are
  communities of their own.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Mapping
from typing import TypeAlias

import community as louvain
import networkx as nx

__all__ = [
    "DAMPING",
    "DEFAULT_SEED",
    "TYPE_WEIGHTS",
    "EdgeRow",
    "NodeId",
    "build_graph",
    "communities",
    "edge_weight",
    "pagerank",
    "to_undirected",
]

NodeId: TypeAlias = Hashable
EdgeRow: TypeAlias = tuple[NodeId, NodeId, str, float]

#: Multiplier of a link's weight by link type; types not listed weigh 1.0.
TYPE_WEIGHTS: Mapping[str, float] = {
    "caused_by": 2.0,
    "updates": 1.5,
    "corrects": 1.5,
    "extends": 1.3,
    "contradicts": 1.3,
}
DAMPING = 0.85
#: ``random_state`` given to Louvain, for reproducible communities.
DEFAULT_SEED = 42


def edge_weight(link_type: str, weight: float) -> float:
    """The graph weight of one link row: the type's multiplier times the link's own weight."""
    return TYPE_WEIGHTS.get(link_type.lower(), 1.0) * float(weight)


def build_graph(edges: Iterable[EdgeRow], nodes: Iterable[NodeId] = ()) -> nx.DiGraph:
    """A weighted directed graph (edge attribute ``weight``) from link rows and extra node ids.

    ``nodes`` are added first, in order, then edges in row order; see the module docstring for how
    weights are computed and which rows are skipped.
    """
    graph = nx.DiGraph()
    graph.add_nodes_from(nodes)
    for source, target, link_type, weight in edges:
        graph.add_node(source)
        graph.add_node(target)
        w = edge_weight(link_type, weight)
        if source == target or not (math.isfinite(w) and w > 0):
            continue
        data = graph.get_edge_data(source, target)
        if data is None:
            graph.add_edge(source, target, weight=w)
        else:
            data["weight"] += w
    return graph


def _as_graph(graph_or_edges: nx.DiGraph | Iterable[EdgeRow], nodes: Iterable[NodeId]) -> nx.DiGraph:
    if isinstance(graph_or_edges, nx.DiGraph):
        graph = graph_or_edges
        extra = [n for n in nodes if n not in graph]
        if extra:
            graph = graph.copy()
            graph.add_nodes_from(extra)
        return graph
    return build_graph(graph_or_edges, nodes)


def pagerank(
    graph_or_edges: nx.DiGraph | Iterable[EdgeRow],
    nodes: Iterable[NodeId] = (),
    *,
    damping: float = DAMPING,
    normalize: bool = True,
) -> dict[NodeId, float]:
    """Weighted PageRank of every node: ``{node: score}``, the highest score 1.0 unless ``normalize=False``.

    Takes a graph from ``build_graph`` or edge rows (plus optional ``nodes``). An empty graph gives ``{}``;
    a graph without edges gives every node the same score (1.0 normalised).
    """
    graph = _as_graph(graph_or_edges, nodes)
    if graph.number_of_nodes() == 0:
        return {}
    scores: dict[NodeId, float] = nx.pagerank(graph, alpha=damping, weight="weight", max_iter=200)
    if not normalize:
        return scores
    top = max(scores.values())
    return {node: score / top for node, score in scores.items()}


def to_undirected(graph: nx.DiGraph) -> nx.Graph:
    """The undirected graph with the weights of ``a -> b`` and ``b -> a`` added together."""
    undirected = nx.Graph()
    undirected.add_nodes_from(graph.nodes)
    for source, target, weight in graph.edges(data="weight", default=1.0):
        data = undirected.get_edge_data(source, target)
        if data is None:
            undirected.add_edge(source, target, weight=weight)
        else:
            data["weight"] += weight
    return undirected


def communities(
    graph_or_edges: nx.DiGraph | Iterable[EdgeRow],
    nodes: Iterable[NodeId] = (),
    *,
    seed: int = DEFAULT_SEED,
    resolution: float = 1.0,
) -> dict[NodeId, int]:
    """Louvain communities: ``{node: community_id}``, ids 0.. by decreasing community size.

    Takes a graph from ``build_graph`` or edge rows (plus optional ``nodes``). Deterministic for a given
    input and ``seed``. An empty graph gives ``{}``; isolated nodes get communities of their own.
    """
    graph = _as_graph(graph_or_edges, nodes)
    if graph.number_of_nodes() == 0:
        return {}
    undirected = to_undirected(graph)
    partition: dict[NodeId, int] = louvain.best_partition(
        undirected, weight="weight", resolution=resolution, random_state=seed
    )
    return _relabel_by_size(partition, list(undirected.nodes))


def _relabel_by_size(partition: Mapping[NodeId, int], order: list[NodeId]) -> dict[NodeId, int]:
    sizes: dict[int, int] = {}
    first_seen: dict[int, int] = {}
    for index, node in enumerate(order):
        label = partition[node]
        sizes[label] = sizes.get(label, 0) + 1
        first_seen.setdefault(label, index)
    ranked = sorted(sizes, key=lambda label: (-sizes[label], first_seen[label]))
    new_id = {label: rank for rank, label in enumerate(ranked)}
    return {node: new_id[partition[node]] for node in order}
