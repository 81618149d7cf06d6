"""Graph algorithms over memory links (PageRank, Louvain communities). Pure: no database, no HTTP."""

from __future__ import annotations

from .rank import (
    DAMPING,
    DEFAULT_SEED,
    TYPE_WEIGHTS,
    EdgeRow,
    NodeId,
    build_graph,
    communities,
    edge_weight,
    pagerank,
    to_undirected,
)

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
