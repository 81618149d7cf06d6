"""The graph channel gives the same neighbours and scores as its plain reference (the code before the
per-type factor and the one-lookup second hop), on random link graphs with hubs, self-links, link types,
non-positive weights, hidden memories and another user's links; and the same from the in-memory link
adjacency (engram_core.graph.adjacency) as from SQL: the same directed edges in the same order, under any
row cap, and the same results."""

from __future__ import annotations

import random
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from engram_core.graph.adjacency import LinkAdjacency
from engram_core.graph.rank import edge_weight
from engram_core.search.channels import graph
from engram_core.search.filters import search_scope
from engram_core.search.schemas import SEARCH
from engram_core.storage.database import Database

TYPES = ["similarity", "caused_by", "updates", "Extends", "contradicts", "mentions"]


def _reference(conn: Any, scope: Any, seeds: dict[int, float], limit: int, exclude: set[int]) -> list[Any]:
    def edges(ids: list[int]) -> list[tuple[int, int, float]]:
        if not ids:
            return []
        out = []
        wanted = set(ids)
        for src, dst, kind, weight in graph_rows(conn, scope.user_id, ids):
            w = edge_weight(str(kind), float(weight) if weight and weight > 0 else 1.0)
            if src in wanted:
                out.append((int(src), int(dst), w))
            if dst in wanted:
                out.append((int(dst), int(src), w))
        return out

    top = max(seeds.values()) or 1.0
    seed_w = {i: w / top for i, w in seeds.items()}
    first: dict[int, float] = defaultdict(float)
    for src, dst, w in edges(list(seed_w)):
        if dst != src:
            first[dst] += seed_w[src] * w
    second: dict[int, float] = defaultdict(float)
    hop1 = [i for i in first if i not in seed_w]
    for src, dst, w in edges(hop1[:200]):
        if dst != src and dst not in first and dst not in seed_w:
            second[dst] += graph.SECOND_HOP * first[src] * w
    raw: dict[int, float] = defaultdict(float)
    for table in (first, second):
        for i, s in table.items():
            if i not in exclude:
                raw[i] += s
    if not raw:
        return []
    factors = graph._visible(conn, scope, list(raw))
    scored = [(i, raw[i] * f) for i, f in factors.items()]
    scored.sort(key=lambda p: (-p[1], p[0]))
    return scored[:limit]


def graph_rows(conn: Any, user_id: int, ids: list[int]) -> list[Any]:
    # the same SELECT as graph._edges (its rows, in its order)
    import json

    return list(
        conn.execute(
            "SELECT l.source_id, l.target_id, l.link_type, l.weight FROM json_each(:ids) j"
            " CROSS JOIN memory_links l ON l.source_id = j.value WHERE +l.user_id = :user"
            " UNION ALL SELECT l.source_id, l.target_id, l.link_type, l.weight FROM json_each(:ids) j"
            " CROSS JOIN memory_links l ON l.target_id = j.value WHERE +l.user_id = :user LIMIT :cap",
            {"user": user_id, "ids": json.dumps(ids), "cap": graph._MAX_EDGES},
        )
    )


def _random_graph(tmp_path: Path, rng: random.Random) -> tuple[Database, int]:
    db = Database(tmp_path / "t.db")
    n = rng.randint(30, 160)

    def fill(conn: Any) -> None:
        conn.execute("INSERT INTO users (id, name, created_at) VALUES (1, 'u', 'now'), (2, 'v', 'now')")
        for i in range(1, n + 1):
            user = 1 if i % 9 else 2
            conn.execute(
                "INSERT INTO memories (id, user_id, content, created_at, updated_at, pagerank, is_deleted)"
                " VALUES (?, ?, ?, 'now', 'now', ?, ?)",
                (i, user, f"m{i}", rng.choice([0.0, 0.0, rng.random(), 2.0]), int(rng.random() < 0.1)),
            )
        hubs = rng.sample(range(1, n + 1), 3)
        pairs = set()
        for _ in range(n * rng.randint(2, 8)):
            a = rng.choice(hubs) if rng.random() < 0.3 else rng.randint(1, n)
            b = rng.randint(1, n) if rng.random() > 0.03 else a
            kind = rng.choice(TYPES)
            if (a, b, kind) in pairs:
                continue
            pairs.add((a, b, kind))
            user = 1 if rng.random() > 0.05 else 2
            weight = rng.choice([rng.random(), rng.random() * 2, 0.0, -0.5])
            conn.execute(
                "INSERT INTO memory_links (user_id, source_id, target_id, link_type, weight, created_at)"
                " VALUES (?, ?, ?, ?, ?, 'now')",
                (user, a, b, kind, weight),
            )

    db.write(fill)
    return db, n


@pytest.mark.parametrize("seed", range(12))
def test_same_results_as_the_reference(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    db, n = _random_graph(tmp_path, rng)
    try:
        scope = search_scope(1, SEARCH.parse({"query": "x", "limit": 10}))
        found = 0
        for _ in range(20):
            seeds = {i: rng.random() for i in rng.sample(range(1, n + 1), rng.randint(1, 8))}
            exclude = set(rng.sample(range(1, n + 1), rng.randint(0, 10)))
            limit = rng.choice([5, 20, 100])
            got = db.read(lambda c, s=seeds, e=exclude, k=limit: graph.graph_search(c, scope, s, k, e))
            want = db.read(lambda c, s=seeds, e=exclude, k=limit: _reference(c, scope, s, k, e))
            assert got == want
            found += bool(got)
        assert found >= 10  # the draws reach neighbours
    finally:
        db.close()


@pytest.mark.parametrize("seed", range(12))
def test_the_adjacency_gives_the_sql_edges_and_results(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    db, n = _random_graph(tmp_path, rng)
    adjacency = LinkAdjacency()
    try:
        scope = search_scope(1, SEARCH.parse({"query": "x", "limit": 10}))
        links = db.read(lambda c: adjacency.sync(c, 1))
        other = db.read(lambda c: adjacency.sync(c, 2))
        assert links is not None and other is not None
        # user isolation: each holds exactly its own links
        own = db.read(lambda c: {r[0] for r in c.execute("SELECT id FROM memory_links WHERE user_id = 1")})
        assert set(links.source_of) == own and not set(other.source_of) & own
        for _ in range(20):
            ids = rng.sample(range(1, n + 1), rng.randint(1, min(n, 60)))
            for cap in (graph._MAX_EDGES, rng.randint(1, 40)):  # the row cap cuts both at the same row
                for user, held in ((1, links), (2, other)):
                    want = db.read(lambda c, i=ids, k=cap, u=user: graph._edges(c, u, i, None, k))
                    assert graph._edges(None, user, ids, held, cap) == want
            seeds = {i: rng.random() for i in rng.sample(range(1, n + 1), rng.randint(1, 8))}
            exclude = set(rng.sample(range(1, n + 1), rng.randint(0, 10)))
            got = db.read(lambda c, s=seeds, e=exclude: graph.graph_search(c, scope, s, 100, e, links=links))
            assert got == db.read(lambda c, s=seeds, e=exclude: graph.graph_search(c, scope, s, 100, e))
    finally:
        db.close()
