"""Benchmark of engram_core.graph: PageRank and Louvain on seeded random graphs with community structure.

Each graph has N nodes in planted communities (sizes 20-200), each node making ``--links`` outgoing links
(default 6): 85% to a node of its own community, 15% to any node. Link types are drawn as in a memory
store (mostly similarity links, some typed ones), link weights uniform in [0.5, 1].

    PYTHONPATH=. python bench/graph_bench.py                 # 10k and 100k nodes
    PYTHONPATH=. python bench/graph_bench.py --sizes 10000   # one size

Prints, per size: edge rows, graph build time, PageRank time, Louvain time, number of communities, the
share of planted communities recovered (nodes whose Louvain community's majority planted community is
their own), and peak RSS.
"""

from __future__ import annotations

import argparse
import platform
import random
import resource
import sys
import time
from collections import Counter
from typing import cast

import networkx as nx

from engram_core.graph import EdgeRow, build_graph, communities, pagerank, to_undirected

LINK_TYPES = ["similar"] * 14 + ["caused_by", "updates", "corrects", "extends", "contradicts", "has_fact"]


def random_edges(n: int, links: int, seed: int) -> tuple[list[EdgeRow], list[int]]:
    """Edge rows and each node's planted community."""
    rng = random.Random(seed)
    planted: list[int] = []
    members: list[list[int]] = []
    while len(planted) < n:
        size = min(rng.randint(20, 200), n - len(planted))
        start = len(planted)
        members.append(list(range(start, start + size)))
        planted.extend([len(members) - 1] * size)
    edges: list[EdgeRow] = []
    for node in range(n):
        own = members[planted[node]]
        for _ in range(links):
            target = rng.choice(own) if rng.random() < 0.85 else rng.randrange(n)
            if target != node:
                edges.append((node, target, rng.choice(LINK_TYPES), rng.uniform(0.5, 1.0)))
    return edges, planted


def recovered_share(found: dict[int, int], planted: list[int]) -> float:
    """Share of nodes whose found community's most common planted community is their own."""
    by_found: dict[int, Counter[int]] = {}
    for node, label in found.items():
        by_found.setdefault(label, Counter())[planted[node]] += 1
    majority = {label: counts.most_common(1)[0][0] for label, counts in by_found.items()}
    return sum(1 for node, label in found.items() if majority[label] == planted[node]) / len(found)


def run(n: int, links: int, seed: int) -> None:
    edges, planted = random_edges(n, links, seed)
    t0 = time.perf_counter()
    graph = build_graph(edges, nodes=range(n))
    t1 = time.perf_counter()
    scores = pagerank(graph)
    t2 = time.perf_counter()
    parts = cast(dict[int, int], communities(graph, seed=42))  # the bench uses int node ids
    t3 = time.perf_counter()
    modularity = nx.community.modularity(to_undirected(graph), _groups(parts), weight="weight")
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"nodes={n:>7} edge_rows={len(edges):>7} graph_edges={graph.number_of_edges():>7} "
        f"build={t1 - t0:6.2f}s pagerank={t2 - t1:6.2f}s louvain={t3 - t2:7.2f}s "
        f"communities={max(parts.values()) + 1:>5} planted={max(planted) + 1:>5} "
        f"recovered={recovered_share(parts, planted):.3f} modularity={modularity:.3f} "
        f"top_score={max(scores.values()):.1f} peak_rss={peak_mib:.0f}MiB",
        flush=True,
    )


def _groups(parts: dict[int, int]) -> list[set[int]]:
    groups: dict[int, set[int]] = {}
    for node, label in parts.items():
        groups.setdefault(label, set()).add(node)
    return list(groups.values())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--links", type=int, default=6, help="outgoing links per node")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    print(f"python {sys.version.split()[0]} networkx {nx.__version__} on {platform.platform()}", flush=True)
    for n in args.sizes:
        run(n, args.links, args.seed)


if __name__ == "__main__":
    main()
