"""Store throughput and FTS search latency at N memories, through the library (no HTTP).

.venv/bin/python bench/store_search.py --memories 10000 --queries 500
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from pathlib import Path

from engram_core.auth.context import AuthContext
from engram_core.engram import Engram
from engram_core.settings import Settings

WORDS = [
    "alpha",
    "build",
    "cache",
    "deploy",
    "release",
    "train",
    "coffee",
    "roast",
    "kitten",
    "mat",
    "rug",
    "tax",
    "filing",
    "deadline",
    "berlin",
    "lisbon",
    "server",
    "memory",
    "vector",
    "graph",
    "search",
    "index",
    "python",
    "rust",
    "sqlite",
    "agent",
    "hook",
    "review",
    "budget",
    "meeting",
    "tuesday",
    "thursday",
    "project",
    "design",
    "doc",
    "bug",
    "fix",
    "test",
    "suite",
    "latency",
    "throughput",
    "model",
    "embedding",
    "token",
    "context",
    "garden",
    "piano",
    "violin",
    "football",
    "marathon",
    "recipe",
    "pasta",
    "curry",
    "travel",
    "flight",
    "hotel",
    "museum",
    "painting",
    "novel",
]


def sentence(rng: random.Random) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 24))).capitalize() + "."


async def main(n: int, queries: int, concurrency: int) -> None:
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as tmp:
        engram = Engram.open(Settings.for_data_dir(Path(tmp)))
        from engram_core.auth.users import create_user

        engram.db.write(lambda c: create_user(c, None, "bench", is_admin=True))
        auth = AuthContext.local(1)
        texts = [sentence(rng) for _ in range(n)]
        started = time.perf_counter()
        sem = asyncio.Semaphore(concurrency)

        async def one(text: str) -> None:
            async with sem:
                await engram.memories.store(auth, {"content": text})

        await asyncio.gather(*(one(t) for t in texts))
        elapsed = time.perf_counter() - started
        print(f"store: {n} memories in {elapsed:.2f} s = {n / elapsed:.0f} stores/s (concurrency {concurrency})")
        lat = []
        for _ in range(queries):
            q = " ".join(rng.choice(WORDS) for _ in range(rng.randint(2, 6)))
            t0 = time.perf_counter()
            await engram.search.search(auth, {"query": q, "limit": 10})
            lat.append((time.perf_counter() - t0) * 1000)
        lat.sort()
        p95 = lat[int(len(lat) * 0.95) - 1]
        print(f"fts search at {n}: p50 {statistics.median(lat):.2f} ms, p95 {p95:.2f} ms over {queries} queries")
        engram.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--memories", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=16)
    a = parser.parse_args()
    asyncio.run(main(a.memories, a.queries, a.concurrency))
