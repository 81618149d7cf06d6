"""Per-channel search times in-process, on a data dir kept by ``bench/search_latency.py --keep``.

Replays the latency bench's query draw (same seed) and times each channel function alone on one read
connection: vector (in-memory index, 40 candidates), FTS (with the common-terms cache, as searches run
it), personality (for every query, although the pipeline runs it only for preference/generalisation
questions). Prints p50/p95/max per channel and the slowest FTS queries with their MATCH.

Usage::

    PYTHONPATH=. python bench/channel_profile.py --keep DIR --n 100000 --model-dir DIR [--queries 200] [--chat]

``--chat``: whole chat messages of 8-24 words (the chat proxy's queries) instead of 3-7-word searches.
``embed`` is one query embedding at a time, as a search makes it.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench.search_latency import COMMON, _text, _vocabulary
from engram_core.engram import Engram
from engram_core.model.fts import build_match
from engram_core.search.channels.fts import fts_search
from engram_core.search.channels.personality import personality_search
from engram_core.search.channels.vector import vector_search
from engram_core.search.filters import search_scope
from engram_core.search.schemas import SEARCH
from engram_core.settings import Settings


def _queries(keep: Path, n: int, count: int, chat: bool = False) -> list[str]:
    facts = json.loads((keep / f"data-{n}.json").read_text())
    rng = random.Random(11)
    _vocabulary(rng)
    vocab = facts["vocab"]
    for _ in range(n):
        _text(rng, vocab)
    if chat:  # the chat proxy's kind of query: a whole message of 8-24 words
        return [_text(rng, vocab) for _ in range(count)]
    pool = vocab[:400] + COMMON
    queries = [" ".join(rng.choice(pool) for _ in range(rng.randint(2, 6))) for _ in range(count)]
    return [q + " " + rng.choice(vocab) for q in queries]


def run(keep: Path, n: int, model_dir: Path, count: int, chat: bool = False) -> None:
    queries = _queries(keep, n, count, chat)
    engram = Engram.open(Settings.for_data_dir(keep / f"data-{n}", embedding_model_dir=model_dir))
    embedder = engram.embedder
    if embedder is None:
        sys.exit(f"no embedding model: {engram.vectors.reason}")
    model = str(embedder.fingerprint)
    engram.search.index.use_model(model, int(embedder.dim))
    embedder.embed(queries[:4])  # warm
    times: dict[str, list[float]] = {"embed": [], "vector": [], "fts": [], "personality": []}
    vectors = []
    for query in queries:  # one at a time, as a search embeds its query
        t = time.perf_counter()
        vectors.append(np.asarray(embedder.embed([query])[0], dtype=np.float32))
        times["embed"].append((time.perf_counter() - t) * 1000)
    common = engram.search.pipeline.fts_stats
    slow: list[tuple[float, str]] = []

    def timed(name: str, fn: Any, *args: Any, **kw: Any) -> float:
        t = time.perf_counter()
        fn(*args, **kw)
        ms = (time.perf_counter() - t) * 1000
        times[name].append(ms)
        return ms

    def loop(conn: Any) -> None:
        for query, vec in zip(queries, vectors, strict=True):
            scope = search_scope(1, SEARCH.parse({"query": query, "limit": 10}))
            index = engram.search.index.sync(conn, 1)
            timed("vector", vector_search, conn, scope, index, vec, 40, model)
            slow.append((timed("fts", fts_search, conn, scope, query, 40, common), query))
            timed("personality", personality_search, conn, scope, query, 40, preference=False)

    try:
        engram.db.read(loop)
    finally:
        engram.close()
    for name, values in times.items():
        cuts = statistics.quantiles(values, n=100)
        print(f"{name:12s} p50 {cuts[49]:7.2f} ms  p95 {cuts[94]:7.2f} ms  max {max(values):7.1f} ms")
    for ms, query in sorted(slow, reverse=True)[:5]:
        print(f"  fts {ms:6.1f} ms  {build_match(query)}")


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", required=True, type=Path)
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--model-dir", required=True, type=Path)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--chat", action="store_true", help="chat-length queries (8-24 words), as the proxy sends")
    args = parser.parse_args(argv)
    run(args.keep, args.n, args.model_dir, args.queries, args.chat)


if __name__ == "__main__":
    main(sys.argv[1:])
