"""The LanceDB ANN path against the exact in-memory index, on one user's stored vectors.

Reads the vectors of user 1 from an Engram data dir (e.g. one filled by ``bench/search_latency.py --keep``),
embeds fresh queries with the same model and reports, for top-10:

* exact in-memory index: load time, query p50/p95;
* LanceDB: table write + IVF-HNSW-SQ build time, query p50/p95 (re-scored from SQLite, as searches do,
  and by LanceDB's refine), recall@10 against exact, largest cosine error of the returned results;
* overlay: query p50 with 1,000 unflushed writes, the flush and the index fold that follow;
* restart: opening the table and reconciling it with SQLite, against loading the matrix;
* resident memory of a fresh process that opens the data dir and runs 50 searches' vector step, once
  with the in-memory index and once from the LanceDB table (``/proc/self/statm``, MiB).

Usage::

    PYTHONPATH=. python bench/ann_bench.py --data-dir DATA_DIR --model-dir DIR [--queries 300]
"""

from __future__ import annotations

import argparse
import functools
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench.search_latency import COMMON, _text, _vocabulary
from engram_core.engram import Engram
from engram_core.settings import Settings
from engram_core.vector_index.ann import AnnStore, AnnUserIndex
from engram_core.vector_index.index import VectorIndex


def _rss_mib() -> float:
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return round(pages * 4096 / 2**20, 1)


def _q(values: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(values, n=100)
    return round(cuts[49], 2), round(cuts[94], 2)


def _timed(fn: Any, queries: np.ndarray) -> tuple[list[list[int]], list[float], list[list[float]]]:
    ids, ms, sims = [], [], []
    for q in queries:
        t = time.perf_counter()
        hits = fn(q)
        ms.append((time.perf_counter() - t) * 1000)
        ids.append([i for i, _ in hits])
        sims.append([s for _, s in hits])
    return ids, ms, sims


def probe(data_dir: Path, model_dir: Path, kind: str) -> None:
    """In a fresh process: open the data dir, serve 50 vector queries from ``kind``, print the RSS."""
    engram = Engram.open(Settings.for_data_dir(data_dir, embedding_model_dir=model_dir))
    assert engram.embedder is not None
    rng = random.Random(9)
    vocab = _vocabulary(rng)
    queries = np.asarray(engram.embedder.embed([_text(rng, vocab) for _ in range(50)]), dtype=np.float32)
    base = _rss_mib()
    store = AnnStore(data_dir / "lance") if kind == "lancedb" else None
    index = VectorIndex(store, threshold=1)
    index.use_model(str(engram.embedder.fingerprint), int(engram.embedder.dim))

    def serve(conn: Any) -> str:
        user = index.sync(conn, 1)
        for q in queries:
            user.top(q, 40, conn)
        return user.kind

    served = engram.db.read(serve)
    print(json.dumps({"kind": served, "rss_before_mib": base, "rss_after_mib": _rss_mib()}))
    engram.close()


def _probe(data_dir: Path, model_dir: Path, kind: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--data-dir", str(data_dir), "--model-dir", str(model_dir), "--probe", kind],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def run(data_dir: Path, model_dir: Path, n_queries: int) -> dict[str, Any]:
    engram = Engram.open(Settings.for_data_dir(data_dir, embedding_model_dir=model_dir))
    embedder = engram.embedder
    if embedder is None:
        sys.exit(f"no embedding model: {engram.vectors.reason}")
    model = str(embedder.fingerprint)
    rng = random.Random(5)
    vocab = _vocabulary(rng)
    texts = [" ".join(rng.choice(vocab[:400] + COMMON) for _ in range(rng.randint(2, 6))) for _ in range(n_queries)]
    texts[: n_queries // 2] = [_text(rng, vocab) for _ in range(n_queries // 2)]
    queries = np.asarray(embedder.embed(texts), dtype=np.float32)
    out: dict[str, Any] = {"queries": n_queries, "rss_start_mib": _rss_mib()}
    db = engram.db
    try:
        memory = VectorIndex()
        memory.use_model(model, int(embedder.dim))
        t = time.perf_counter()
        exact_index = db.read(lambda c: memory.sync(c, 1))
        out["memory_load_s"] = round(time.perf_counter() - t, 2)
        out["vectors"] = exact_index.size
        out["rss_after_memory_load_mib"] = _rss_mib()
        exact, ms, exact_sims = _timed(functools.partial(exact_index.top, n=10), queries)
        out["memory_top10_p50_p95_ms"] = _q(ms)

        with tempfile.TemporaryDirectory() as tmp:
            store = AnnStore(Path(tmp) / "lance")  # the probe below builds its own in the data dir
            ids = exact_index.ids[: exact_index.size].copy()
            vectors = exact_index.matrix[: exact_index.size].copy()
            t = time.perf_counter()
            table = store.create(1, model, ids, vectors)
            out["lance_build_s"] = round(time.perf_counter() - t, 1)
            ann = AnnUserIndex(table, 1, int(embedder.dim), (int(i) for i in ids))
            del vectors
            _, ms, _ = _timed(lambda q: ann.top(q, 10), queries)
            out["lance_refined_top10_p50_p95_ms"] = _q(ms)  # re-scored by LanceDB from its files
            found, ms, sims = db.read(lambda c: _timed(lambda q: ann.top(q, 10, c), queries))
            out["lance_top10_p50_p95_ms"] = _q(ms)  # the search path: re-scored from SQLite
            out["lance_recall_at_10"] = round(
                float(np.mean([len(set(a) & set(b)) / 10 for a, b in zip(exact, found, strict=True)])), 4
            )
            errors = [
                abs(s - float(vectors_row @ q))
                for q, hit_ids, hit_sims in zip(queries[:50], found[:50], sims[:50], strict=True)
                for i, s in zip(hit_ids, hit_sims, strict=True)
                for vectors_row in [exact_index.matrix[exact_index.row_of[i]]]
            ]
            out["lance_max_cosine_error"] = float(f"{max(errors):.2e}")

            extra = np.asarray(embedder.embed([_text(rng, vocab) for _ in range(1000)]), dtype=np.float32)
            with ann.lock:
                for k, vec in enumerate(extra):
                    ann.put(10_000_000 + k, vec)
            _, ms, _ = db.read(lambda c: _timed(lambda q: ann.top(q, 10, c), queries[:100]))
            out["lance_top10_p50_with_1000_unflushed_ms"] = _q(ms)[0]
            t = time.perf_counter()
            ann.flush()
            out["flush_1000_s"] = round(time.perf_counter() - t, 2)
            t = time.perf_counter()
            ann.optimize()
            out["fold_into_index_s"] = round(time.perf_counter() - t, 1)

            memory.reset()
            del exact_index  # the matrix goes: the RSS below is what a restart on LanceDB holds
            restarted = VectorIndex(store, threshold=1)
            restarted.use_model(model, int(embedder.dim))
            t = time.perf_counter()
            reopened = db.read(lambda c: restarted.sync(c, 1))
            out["lance_reopen_reconcile_s"] = round(time.perf_counter() - t, 2)
            out["reopened_kind"] = reopened.kind
            out["rss_after_lance_reopen_mib"] = _rss_mib()
            out["lance_dir_mib"] = round(sum(f.stat().st_size for f in store.root.rglob("*") if f.is_file()) / 2**20, 1)
    finally:
        engram.close()
    out["exact_cosine_top1_p50"] = round(float(np.median([s[0] for s in exact_sims])), 3)
    if not (data_dir / "lance").exists():  # the data dir's own LanceDB table, as the server would build it
        engram = Engram.open(Settings.for_data_dir(data_dir, embedding_model_dir=model_dir, use_lance_index=True))
        index = engram.search.index
        index.threshold = 1
        engram.db.read(lambda c: index.sync(c, 1))
        index.maintain()
        engram.close()
    out["rss_probe_memory"] = _probe(data_dir, model_dir, "memory")
    out["rss_probe_lancedb"] = _probe(data_dir, model_dir, "lancedb")
    return out


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", required=True, type=Path)
    parser.add_argument("--model-dir", required=True, type=Path)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--probe", choices=("memory", "lancedb"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.probe:
        probe(args.data_dir, args.model_dir, args.probe)
        return
    if not (args.data_dir / "engram.db").exists():
        sys.exit(f"{args.data_dir} holds no engram.db")
    print(json.dumps(run(args.data_dir, args.model_dir, args.queries), indent=2), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
