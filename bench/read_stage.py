"""The search's read stage in-process, with the graph channel's links from SQL and from memory (issue 19).

On a copy of a data dir kept by ``bench/load.py --keep DIR`` (whose memories stored through the API are
auto-linked), runs the pipeline's two reads per search (the keyword stage; vector + graph + fusion +
scoring) on the read pool for ``--queries`` queries of the load bench's kind over its users, with a fixed
``now`` and precomputed query vectors, and measures the CPU of the read thread per search. Mode ``sql``
reads ``memory_links`` through SQL (the graph channel before the adjacency), mode ``adjacency`` walks each
user's links in memory (:mod:`engram_core.graph.adjacency`, loaded before the timed rounds). The modes
alternate for ``--rounds`` rounds; the min per mode is printed, with the graph stage's wall time (seeds,
expansion, graph channel) and the graph channel's own CPU (``graph_search``), and the
results of both modes are compared (ids, scores, combined scores, pool sizes: they must be identical).
Also printed: the adjacency's memory (tracemalloc, bytes per link) and its load time.

Usage::

    PYTHONPATH=. python bench/read_stage.py --data DIR [--model-dir DIR] [--queries 120] [--rounds 3]
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.load import default_model_dir
from bench.search_latency import COMMON, _vocabulary
from engram_core.engram import Engram
from engram_core.graph.adjacency import LinkAdjacency
from engram_core.search import pipeline as pipeline_module
from engram_core.search.filters import search_scope
from engram_core.search.schemas import SEARCH
from engram_core.search.strategy import strategy_for
from engram_core.settings import Settings
from engram_core.timeutil import to_datetime


def _queries(users: list[int], count: int) -> list[tuple[int, str]]:
    """The load bench's search queries (its vocabulary and draw, seed 19), round-robin over the users."""
    vocab = _vocabulary(random.Random(19))
    pool = vocab[:400] + COMMON
    rng = random.Random(19)
    out = []
    for i in range(count):
        words = [rng.choice(pool) for _ in range(rng.randint(2, 6))] + [rng.choice(vocab)]
        out.append((users[i % len(users)], " ".join(words)))
    return out


def _timed(fn: Callable[[Any], Any]) -> Callable[[Any], tuple[Any, float]]:
    def run(conn: Any) -> tuple[Any, float]:
        t = time.thread_time()
        out = fn(conn)
        return out, time.thread_time() - t

    return run


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="a data dir kept by bench/load.py --keep")
    parser.add_argument("--model-dir", type=Path, default=default_model_dir())
    parser.add_argument("--queries", type=int, default=120)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        shutil.copytree(args.data, data)
        settings = Settings.for_data_dir(data, embedding_model_dir=args.model_dir, search_cache_size=0)
        engram = Engram.open(settings)
        try:
            run(engram, args)
        finally:
            engram.close()


def _adjacency_cost(db: Any, users: list[int]) -> None:
    """Print the adjacency's memory (every user loaded, tracemalloc) and its load time."""
    tracemalloc.start()
    probe = LinkAdjacency()
    for user in users:
        db.read(lambda c, u=user: probe.sync(c, u))
    held = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    n = probe.stats()["links"]
    print(f"adjacency: {n} links, {held / 1024:.0f} KiB traced, {held / max(1, n):.0f} bytes/link")
    for _ in range(3):
        again = LinkAdjacency()
        t = time.perf_counter()
        for user in users:
            db.read(lambda c, u=user, a=again: a.sync(c, u))
        print(f"adjacency load, every user: {(time.perf_counter() - t) * 1000:.1f} ms")


def run(engram: Engram, args: argparse.Namespace) -> None:
    db = engram.db
    pipeline = engram.search.pipeline
    users = [int(r[0]) for r in db.read(lambda c: c.execute("SELECT DISTINCT user_id FROM memories").fetchall())]
    links_n = db.read(lambda c: c.execute("SELECT count(*) FROM memory_links").fetchone()[0])
    memories_n = db.read(lambda c: c.execute("SELECT count(*) FROM memories").fetchone()[0])
    print(f"# {memories_n} memories, {links_n} links, {len(users)} users, {args.queries} queries")

    _adjacency_cost(db, users)
    embedder = engram.embedder
    assert embedder is not None, engram.vectors.reason
    model = str(embedder.fingerprint)
    queries = _queries(users, args.queries)
    vectors = embedder.embed([q for _, q in queries])
    now = "2026-12-02T12:00:00+00:00"
    items = []
    for (user, text), vec in zip(queries, vectors, strict=True):
        q = SEARCH.parse({"query": text, "limit": 10})
        items.append((search_scope(user, q, now), q, strategy_for(text, None), vec))
    adjacency = engram.search.links
    channel_cpu: list[float] = []
    graph_search = pipeline_module.graph_search

    def timed_graph_search(*a: Any, **k: Any) -> Any:  # the graph channel's own CPU
        t = time.thread_time()
        try:
            return graph_search(*a, **k)
        finally:
            channel_cpu.append((time.thread_time() - t) * 1000)

    pipeline_module.graph_search = timed_graph_search  # type: ignore[assignment]

    def once(mode: str) -> tuple[list[float], list[float], list[Any]]:
        pipeline.links = adjacency if mode == "adjacency" else None
        cpu, graph_ms, answers = [], [], []
        channel_cpu.clear()
        for scope, q, strategy, vec in items:
            timings: dict[str, float] = {}
            lists, c1 = db.read(_timed(pipeline._keyword_stage(scope, q, strategy, timings)))
            stage = pipeline._stage(scope, q, strategy, vec, model, to_datetime(now), False, timings, lists)
            (results, _, counts, pool), c2 = db.read(_timed(stage))
            cpu.append((c1 + c2) * 1000)
            graph_ms.append(timings["graph_ms"])
            answers.append(([(r["id"], r["score"], r["combined_score"]) for r in results], counts, pool))
        return cpu, graph_ms, answers

    once("sql")  # warm: vector index loaded, caches filled
    once("adjacency")  # warm: every user's links loaded
    best: dict[str, tuple[float, float, float]] = {}
    answers: dict[str, list[Any]] = {}
    for r in range(args.rounds):
        for mode in ("sql", "adjacency") if r % 2 == 0 else ("adjacency", "sql"):
            cpu, graph_ms, answers[mode] = once(mode)
            mean, graph = statistics.fmean(cpu), statistics.fmean(graph_ms)
            channel = sum(channel_cpu) / len(items)
            print(f"round {r + 1} {mode:9}: read stage {mean:.3f} ms CPU a search, graph stage {graph:.3f} ms,"
                  f" graph channel {channel:.3f} ms CPU")  # fmt: skip
            if mode not in best or mean < best[mode][0]:
                best[mode] = (mean, graph, channel)
    same = answers["sql"] == answers["adjacency"]
    graph_hits = statistics.fmean(a[1].get("graph", 0) for a in answers["sql"])
    print(f"identical results: {same}; graph hits a search {graph_hits:.1f}")
    for mode, (mean, graph, channel) in best.items():
        print(f"min {mode:9}: read stage {mean:.3f} ms CPU a search, graph stage {graph:.3f} ms,"
              f" graph channel {channel:.3f} ms CPU")  # fmt: skip
    if not same:
        sys.exit(1)


if __name__ == "__main__":
    main(sys.argv[1:])
