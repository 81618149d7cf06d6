"""LanceDB ANN against the exact in-memory index past 100k vectors, without embedding a million texts.

Takes user 1's real MiniLM vectors from a data dir (e.g. 100k from ``bench/search_latency.py --keep``)
and makes ``--copies`` noisy copies of each (Gaussian noise of norm ~0.3, re-normalised), so the corpus
keeps the real vectors' clustering at ``copies x`` the size. Queries are copies of random stored vectors
with more noise (norm ~0.8). Reports build time, top-10 p50/p95 and recall@10 against exact, and how
much a fresh process's resident memory grows to hold each index and answer 50 queries (``/proc``; for
memory that includes building the corpus, which is the matrix itself).

Usage::

    PYTHONPATH=. python bench/ann_scale.py --data-dir DATA_DIR --copies 10 [--queries 100]
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from engram_core.vector_index.ann import AnnStore, AnnUserIndex
from engram_core.vector_index.index import UserIndex


def _rss_mib() -> float:
    return round(int(Path("/proc/self/statm").read_text().split()[1]) * 4096 / 2**20, 1)


def _unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def corpus(data_dir: Path, copies: int) -> np.ndarray:
    with sqlite3.connect(f"file:{data_dir / 'engram.db'}?mode=ro", uri=True) as conn:
        rows = conn.execute("SELECT embedding FROM memories WHERE user_id = 1 AND embedding IS NOT NULL").fetchall()
    base = np.vstack([np.frombuffer(r[0], dtype="<f4") for r in rows]).astype(np.float32)
    rng = np.random.default_rng(1)
    dim = base.shape[1]
    parts = [base] + [_unit(base + rng.normal(0, 0.3 / np.sqrt(dim), base.shape)) for _ in range(copies - 1)]
    return np.vstack(parts)


def _queries(vectors: np.ndarray, n: int) -> np.ndarray:
    rng = np.random.default_rng(2)
    picked = vectors[rng.choice(len(vectors), n, replace=False)]
    return _unit(picked + rng.normal(0, 0.8 / np.sqrt(vectors.shape[1]), picked.shape))


def _q(ms: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(ms, n=100)
    return round(cuts[49], 2), round(cuts[94], 2)


def probe(data_dir: Path, copies: int, kind: str, lance_dir: Path, queries_file: Path) -> None:
    """In a fresh process: hold the index of ``kind``, answer 50 queries, print the RSS growth."""
    queries = np.load(queries_file)
    before = _rss_mib()
    index: Any
    if kind == "memory":
        vectors = corpus(data_dir, copies)
        index = UserIndex(vectors.shape[1])
        index.matrix, index.ids, index.size = vectors, np.arange(len(vectors)), len(vectors)
    else:
        table = AnnStore(lance_dir).open(1, "scale")
        index = AnnUserIndex(table, 1, int(queries.shape[1]), range(table.count_rows()))
    for q in queries:
        index.top(q, 10)
    print(json.dumps({"kind": kind, "rss_growth_mib": round(_rss_mib() - before, 1)}))


def run(data_dir: Path, copies: int, n_queries: int) -> dict[str, Any]:
    vectors = corpus(data_dir, copies)
    queries = _queries(vectors, n_queries)
    out: dict[str, Any] = {"vectors": len(vectors), "dim": int(vectors.shape[1]), "queries": n_queries}
    exact = UserIndex(vectors.shape[1])
    exact._grow(len(vectors))
    exact.matrix[: len(vectors)] = vectors
    exact.ids[: len(vectors)] = np.arange(len(vectors))
    exact.size = len(vectors)
    truth, ms = [], []
    for q in queries:
        t = time.perf_counter()
        truth.append({i for i, _ in exact.top(q, 10)})
        ms.append((time.perf_counter() - t) * 1000)
    out["memory_top10_p50_p95_ms"] = _q(ms)
    with tempfile.TemporaryDirectory() as tmp:
        lance_dir = Path(tmp) / "lance"
        t = time.perf_counter()
        table = AnnStore(lance_dir).create(1, "scale", np.arange(len(vectors)), vectors)
        out["lance_build_s"] = round(time.perf_counter() - t, 1)
        ann = AnnUserIndex(table, 1, int(vectors.shape[1]), range(len(vectors)))
        found, ms = [], []
        for q in queries:
            t = time.perf_counter()
            found.append({i for i, _ in ann.top(q, 10)})
            ms.append((time.perf_counter() - t) * 1000)
        out["lance_top10_p50_p95_ms"] = _q(ms)  # re-scored by LanceDB (refine): no SQLite here
        recall = [len(a & b) / 10 for a, b in zip(truth, found, strict=True)]
        out["lance_recall_at_10"] = round(float(np.mean(recall)), 4)
        del vectors, exact
        np.save(Path(tmp) / "queries.npy", queries[:50])
        for kind in ("memory", "lancedb"):
            cmd = [sys.executable, __file__, "--data-dir", str(data_dir), "--copies", str(copies), "--probe", kind,
                   "--lance-dir", str(lance_dir), "--queries-file", str(Path(tmp) / "queries.npy")]  # fmt: skip
            done = subprocess.run(cmd, check=True, capture_output=True, text=True)
            out[f"rss_probe_{kind}"] = json.loads(done.stdout.strip().splitlines()[-1])
    return out


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", required=True, type=Path)
    parser.add_argument("--copies", type=int, default=10)
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--probe", choices=("memory", "lancedb"), help=argparse.SUPPRESS)
    parser.add_argument("--lance-dir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--queries-file", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.probe:
        probe(args.data_dir, args.copies, args.probe, args.lance_dir, args.queries_file)
        return
    print(json.dumps(run(args.data_dir, args.copies, args.queries), indent=2), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
