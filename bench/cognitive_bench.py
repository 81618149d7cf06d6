"""Benchmark of the cognitive core through its services (real SQLite, the server's own code paths).

1. Graph ranking at N memories with ~6 links each (planted communities, as in graph_bench.py):
   ``GraphRanker.refresh_pagerank`` and ``detect_communities`` end to end (read the user's links on a
   read connection, compute on the graph executor, write every score in one transaction).
2. Store latency with the post-store work at 10k memories: sequential ``MemoryService.store`` calls
   (validation, SimHash check, embedding with the configured model if installed, one write transaction
   with the FSRS initial review and the durable autolink job) while the job queue runs the autolink jobs
   (cosine against the user's 10k embedded memories, links both ways); p50/p95 of the store and of the
   autolink job.

    PYTHONPATH=. python bench/cognitive_bench.py                       # 10k graph, 10k store
    PYTHONPATH=. python bench/cognitive_bench.py --graph-sizes 10000 100000
    ENGRAM_MODELS_DIR=./data/models PYTHONPATH=. python bench/cognitive_bench.py   # with real MiniLM
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.graph_bench import random_edges  # noqa: E402
from engram_core.auth.context import AuthContext  # noqa: E402
from engram_core.auth.users import create_user  # noqa: E402
from engram_core.decay import initial_state  # noqa: E402
from engram_core.engram import Engram  # noqa: E402
from engram_core.memories.simhash import fingerprint  # noqa: E402
from engram_core.settings import Settings  # noqa: E402
from engram_core.timeutil import now_iso  # noqa: E402

DIM = 384


def _prefill(engram: Engram, n: int, edges: list[Any], fp: str | None, seed: int) -> int:
    """A user with ``n`` memories (FSRS state, simhash, optional random unit vectors) and ``edges``."""
    rng = np.random.default_rng(seed)
    user_id = int(engram.db.write(lambda c: create_user(c, None, f"bench{seed}", is_admin=True))["id"])
    now = now_iso()
    state = initial_state(datetime.now(UTC)).to_row()

    def tx(conn: Any) -> int:
        for start in range(0, n, 5000):
            rows = []
            for i in range(start, min(n, start + 5000)):
                text = f"memory {i} about topic {i % 97} and detail {i * 7919 % 10007}"
                blob = None
                if fp is not None:
                    v = rng.standard_normal(DIM).astype("<f4")
                    blob = (v / np.linalg.norm(v)).astype("<f4").tobytes()
                rows.append((user_id, text, now, now, fingerprint(text), blob, fp, *state.values()))
            cols = ", ".join(state)
            conn.executemany(
                "INSERT INTO memories (user_id, content, created_at, updated_at, simhash, embedding, embedding_model,"
                f" {cols}) VALUES (?, ?, ?, ?, ?, ?, ?{', ?' * len(state)})",
                rows,
            )
        first = conn.execute("SELECT min(id) FROM memories WHERE user_id = ?", (user_id,)).fetchone()[0]
        conn.execute("UPDATE memories SET root_id = id WHERE user_id = ?", (user_id,))
        conn.executemany(
            "INSERT OR IGNORE INTO memory_links (user_id, source_id, target_id, link_type, weight, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            [(user_id, first + s, first + t, kind, w, now) for s, t, kind, w in edges],
        )
        return int(first)

    engram.db.write(tx)
    return user_id


def _pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.array(values), q))


async def bench_graph(settings: Settings, n: int, links: int) -> dict[str, Any]:
    edges, _ = random_edges(n, links, seed=n)
    engram = Engram.open(settings)
    try:
        user_id = _prefill(engram, n, edges, None, seed=1)
        t0 = time.perf_counter()
        pr = await engram.cognitive.ranker.refresh_pagerank(user_id)
        t1 = time.perf_counter()
        lv = await engram.cognitive.ranker.detect_communities(user_id)
        t2 = time.perf_counter()
        return {
            "n": n,
            "edges": pr["edges"],
            "pagerank_s": t1 - t0,
            "pagerank_compute_ms": pr["compute_ms"],
            "louvain_s": t2 - t1,
            "communities": lv["communities"],
        }
    finally:
        await engram.vectors.close()
        engram.close()


async def bench_store(settings: Settings, n: int, stores: int) -> dict[str, Any]:
    engram = Engram.open(settings)
    try:
        fp = engram.vectors.fingerprint
        dim_ok = engram.embedder is not None and engram.embedder.dim == DIM
        user_id = _prefill(engram, n, [], fp if dim_ok else None, seed=2)
        auth = AuthContext(user_id=user_id, scopes=("read", "write", "admin"), is_admin=True)
        job_times: list[float] = []
        original = engram.jobs.handlers["autolink"]

        def timed(fn: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
            async def run(payload: dict[str, Any], uid: int | None) -> Any:
                t = time.perf_counter()
                try:
                    return await fn(payload, uid)
                finally:
                    job_times.append(time.perf_counter() - t)

            return run

        engram.jobs.register("autolink", timed(original))
        await engram.start()
        rng = random.Random(3)
        latencies: list[float] = []
        for i in range(stores):
            text = f"Bench store {i}: {rng.choice(['Alice', 'Bob', 'the team'])} {rng.random():.6f} planning"
            t = time.perf_counter()
            stored = (await engram.memories.store(auth, {"content": text}))["stored"]
            latencies.append(time.perf_counter() - t)
            assert stored
            await asyncio.sleep(0.005)  # a client's think time: jobs interleave as in a live server
        await engram.jobs.drain(timeout=300)
        await engram.stop()
        return {
            "n": n,
            "stores": stores,
            "embedded": dim_ok,
            "model": fp,
            "store_p50_ms": _pct(latencies, 50) * 1000,
            "store_p95_ms": _pct(latencies, 95) * 1000,
            "job_p50_ms": _pct(job_times, 50) * 1000,
            "job_p95_ms": _pct(job_times, 95) * 1000,
            "jobs": len(job_times),
        }
    finally:
        await engram.vectors.close()
        engram.close()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--graph-sizes", type=int, nargs="*", default=[10_000])
    parser.add_argument("--links", type=int, default=6)
    parser.add_argument("--store-size", type=int, default=10_000)
    parser.add_argument("--stores", type=int, default=300)
    args = parser.parse_args()
    base = Settings.from_env()
    print(
        f"{platform.platform()} · {platform.processor() or platform.machine()} · {os.cpu_count()} cpus · "
        f"Python {platform.python_version()}"
    )
    for n in args.graph_sizes:
        with tempfile.TemporaryDirectory() as tmp:
            s = base.replace(data_dir=Path(tmp), db_path=Path(tmp) / "engram.db", models_dir=base.models_dir)
            r = asyncio.run(bench_graph(s, n, args.links))
        print(
            f"graph n={r['n']:>7} edges={r['edges']:>7}  pagerank {r['pagerank_s']:.2f}s "
            f"(read+compute {r['pagerank_compute_ms'] / 1000:.2f}s)  louvain {r['louvain_s']:.2f}s "
            f"({r['communities']} communities)"
        )
    if args.stores:
        with tempfile.TemporaryDirectory() as tmp:
            s = base.replace(data_dir=Path(tmp), db_path=Path(tmp) / "engram.db", models_dir=base.models_dir)
            r = asyncio.run(bench_store(s, args.store_size, args.stores))
        print(
            f"store at n={r['n']} ({r['stores']} stores, model {r['model']}, prefilled vectors {r['embedded']}): "
            f"p50 {r['store_p50_ms']:.1f} ms  p95 {r['store_p95_ms']:.1f} ms; autolink job ({r['jobs']}): "
            f"p50 {r['job_p50_ms']:.1f} ms  p95 {r['job_p95_ms']:.1f} ms"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
