"""Ingest throughput against the bare embedder, and search latency while an ingest runs.

    ENGRAM_MODELS_DIR=/work/main/data/models .venv/bin/python bench/ingest_bench.py [--messages 10000]

1. A Markdown tree (one file of many sections) and a ChatGPT export of ``--messages`` messages, each
   submitted through ``IngestService.submit`` and run by the job queue to the end: chunks/s and MB/s.
2. The bare embedder on the same chunk texts (``EmbeddingManager.embed`` in batches of the ingest
   batch size): chunks/s. The ratio is the ingest's cost over embedding alone (target >= 0.8).
3. While a second ChatGPT ingest runs, one search at a time (``SearchService.search``): p50/p95.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.scratch import scratch_engram  # noqa: E402
from engram_core.auth.context import AuthContext  # noqa: E402
from engram_core.engram import Engram  # noqa: E402
from tests import ingest_files  # noqa: E402

WORDS = ("harbour crane tide kelp otter buoy anchor ledger invoice route beacon shoal pier dock rope").split()  # noqa: SIM905


def markdown(sections: int) -> bytes:
    parts = ["# Handbook\n"]
    for i in range(sections):
        w = [WORDS[(i * k) % len(WORDS)] for k in range(1, 9)]
        rule = f"Rule {i}: the {w[1]} near the {w[2]} is checked every {i % 7 + 1} hours by team {i}."
        parts.append(
            f"## Section {i} {w[0]}\n\n{rule} Report {w[3]} issues to desk {i % 13}; {w[4]} logs go to {w[5]}-{i}.\n"
        )
    return "\n".join(parts).encode()


async def ingest(engram: Engram, auth: AuthContext, name: str, data: bytes) -> tuple[float, dict[str, Any]]:
    t0 = time.perf_counter()
    made = await engram.ingest.submit(auth, data, {"filename": name})
    while True:
        job = await engram.ingest.job(made["job_id"], None)
        if job["status"] in ("done", "failed"):
            break
        await asyncio.sleep(0.05)
    return time.perf_counter() - t0, job["ingest"]


async def bare(engram: Engram, texts: list[str], batch: int) -> float:
    t0 = time.perf_counter()
    for i in range(0, len(texts), batch):
        await engram.vectors.embed(texts[i : i + batch])
    return time.perf_counter() - t0


async def searches_during(engram: Engram, auth: AuthContext, data: bytes) -> tuple[list[float], float]:
    task = asyncio.create_task(ingest(engram, auth, "again.json", data))
    lat: list[float] = []
    i = 0
    while not task.done():
        t0 = time.perf_counter()
        await engram.search.search(auth, {"query": f"sailing route number {i % 200} {WORDS[i % len(WORDS)]}"})
        lat.append((time.perf_counter() - t0) * 1000)
        i += 1
        await asyncio.sleep(0.05)
    elapsed, _ = await task
    return lat, elapsed


async def run(engram: Engram, args: argparse.Namespace) -> None:
    await engram.start()
    auth = AuthContext.local(1)
    batch = engram.settings.ingest_batch
    md = markdown(args.sections)
    chat = ingest_files.chatgpt(args.messages // 20, 20)
    for name, data in (("handbook.md", md), ("conversations.json", chat)):
        docs = engram.ingest._parse(data, name, None)
        texts = [c.content for d in docs for c in d.chunks]
        bare_s = await bare(engram, texts, batch)
        took, view = await ingest(engram, auth, name, data)
        n = view["found"]
        mb = len(data) / 1e6
        print(f"{name}: {n} chunks, {mb:.2f} MB; ingest {n / took:.0f} chunks/s {mb / took:.3f}"
              f" MB/s ({took:.1f} s, stored {view['stored']}); bare embedder {len(texts) / bare_s:.0f} chunks/s"
              f" ({bare_s:.1f} s); ratio {bare_s / took:.2f}")  # fmt: skip
    again = ingest_files.chatgpt(args.messages // 40, 20, start=1_600_000_000.0)
    again = again.replace(b"sailing route", b"rowing course")
    base_lat = []
    for i in range(30):
        t0 = time.perf_counter()
        await engram.search.search(auth, {"query": f"idle query {i} {WORDS[i % len(WORDS)]}"})
        base_lat.append((time.perf_counter() - t0) * 1000)
    lat, took = await searches_during(engram, auth, again)
    q = statistics.quantiles
    print(
        f"search alone: p50 {statistics.median(base_lat):.1f} ms p95 {q(base_lat, n=20)[-1]:.1f} ms ({len(base_lat)})"
    )
    if len(lat) >= 2:
        print(f"search during an ingest ({took:.1f} s): p50 {statistics.median(lat):.1f} ms"
              f" p95 {q(lat, n=20)[-1]:.1f} ms ({len(lat)} searches)")  # fmt: skip
    await engram.stop()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--sections", type=int, default=2_000)
    args = parser.parse_args()
    with scratch_engram() as engram:
        print(f"model {engram.vectors.fingerprint}; batch {engram.settings.ingest_batch};"
              f" load {os.getloadavg()[0]:.2f}; {os.cpu_count()} cores")  # fmt: skip
        asyncio.run(run(engram, args))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
