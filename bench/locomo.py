"""LoCoMo retrieval quality of the full search pipeline (library, no server, no LLM).

For each conversation a fresh Engram in a temporary data dir stores every turn as one memory
("Speaker: text", ``created_at`` = the session's date) through ``memories.store``; every scored question
(category 5 skipped, evidence repaired as ``bench/locomo_data.py`` says) is searched with
``search.pipeline.run`` (top 20), and recall@1/5/10/20, hit@10 and NDCG@10 of the evidence turns are
reported per category and overall, with the search latency p50/p95.

Usage::

    PYTHONPATH=. python bench/locomo.py [--model-dir DIR] [--json out.json]

With ``--model-dir`` (a converted minilm) the store path embeds every turn and the vector channel is on;
without a model it is off (FTS + personality + graph). Nothing here keys on LoCoMo's wording or speakers.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Collection, Hashable, Sequence
from pathlib import Path
from typing import Any

from bench.locomo_data import CATEGORIES, DEFAULT_PATH, Locomo, load_locomo
from bench.metrics import hit_at_k, ndcg_at_k, recall_at_k
from engram_core.auth.context import AuthContext
from engram_core.engram import Engram
from engram_core.search.filters import search_scope
from engram_core.search.schemas import SEARCH
from engram_core.settings import Settings

TOP_K = 20
_CONCURRENT = 64
Metric = Callable[[Sequence[Hashable], Collection[Hashable]], float]
METRICS: dict[str, Metric] = {
    "R@1": lambda r, e: recall_at_k(r, e, 1),
    "R@5": lambda r, e: recall_at_k(r, e, 5),
    "R@10": lambda r, e: recall_at_k(r, e, 10),
    "R@20": lambda r, e: recall_at_k(r, e, 20),
    "hit@10": lambda r, e: hit_at_k(r, e, 10),
    "NDCG@10": lambda r, e: ndcg_at_k(r, e, 10),
}


async def _conversation(
    data: Locomo, sid: str, overrides: dict[str, Any], latencies: list[float], channels: set[str]
) -> dict[str, list[str]]:
    """Store one conversation in a fresh Engram and return question -> ranked turn keys."""
    with tempfile.TemporaryDirectory() as tmp:
        engram = Engram.open(Settings.for_data_dir(Path(tmp) / "data", **overrides))
        try:
            engram.db.write(lambda c: c.execute("INSERT INTO users (id, name, created_at) VALUES (1, 'bench', 'x')"))
            await engram.start()
            auth = AuthContext.local(1)
            key_of: dict[int, str] = {}
            turns = data.turns[sid]
            for start in range(0, len(turns), _CONCURRENT):  # concurrent stores share embedding batches
                chunk = turns[start : start + _CONCURRENT]
                bodies = await asyncio.gather(
                    *(engram.memories.store(auth, {"content": t.text, "created_at": t.created_at}) for t in chunk)
                )
                for turn, (_, body) in zip(chunk, bodies, strict=True):
                    key_of.setdefault(int(body.get("id") or body["existing_id"]), turn.key)
            channels.add(engram.search.vector_status()["enabled"] and "vector" or "no vector")
            await _drain_jobs(engram)  # post-commit jobs (auto-links) run before the questions
            ranked: dict[str, list[str]] = {}
            for q in (q for q in data.questions if q.sample_id == sid):
                parsed = SEARCH.parse({"query": q.question, "limit": TOP_K})
                started = time.perf_counter()
                outcome = await engram.search.run(search_scope(1, parsed), parsed)
                latencies.append((time.perf_counter() - started) * 1000)
                ranked[q.question] = [key_of[r["id"]] for r in outcome.results if r["id"] in key_of]
            return ranked
        finally:
            await engram.stop()
            engram.close()


async def _drain_jobs(engram: Engram, timeout: float = 600.0) -> None:
    """Wait until the durable job queue is empty (or ``timeout`` seconds pass)."""
    deadline = time.monotonic() + timeout
    sql = "SELECT count(*) FROM jobs WHERE status IN ('queued', 'running')"
    while time.monotonic() < deadline and await engram.db.aread(lambda c: c.execute(sql).fetchone()[0]):
        engram.jobs.wake()
        await asyncio.sleep(0.05)


def evaluate(data: Locomo, overrides: dict[str, Any]) -> tuple[dict[str, dict[str, float]], list[float], set[str]]:
    """Mean metrics per category and overall, every search latency in ms, and whether vectors were on."""
    latencies: list[float] = []
    channels: set[str] = set()
    sums: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    counts: dict[str, int] = defaultdict(int)
    for sid in data.turns:
        ranked = asyncio.run(_conversation(data, sid, overrides, latencies, channels))
        for q in (q for q in data.questions if q.sample_id == sid):
            for group in (CATEGORIES[q.category], "overall"):
                counts[group] += 1
                for name, fn in METRICS.items():
                    sums[group][name] += fn(ranked[q.question], q.evidence_keys)
    results = {g: {m: sums[g][m] / counts[g] for m in METRICS} | {"n": counts[g]} for g in sums}
    return results, latencies, channels


def table(results: dict[str, dict[str, float]]) -> str:
    """A markdown table, categories then overall."""
    head = "| group | n | " + " | ".join(METRICS) + " |"
    rule = "|---" * (len(METRICS) + 2) + "|"
    rows = [
        f"| {g} | {int(results[g]['n'])} | " + " | ".join(f"{results[g][m]:.3f}" for m in METRICS) + " |"
        for g in [*CATEGORIES.values(), "overall"]
        if g in results
    ]
    return "\n".join([head, rule, *rows])


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(DEFAULT_PATH))
    parser.add_argument("--model-dir", default=None, help="directory of the converted minilm model")
    parser.add_argument("--reranker-dir", default=None, help="not used yet (reranker wiring is pending)")
    parser.add_argument("--json", default=None, help="also write the figures to this file")
    args = parser.parse_args(argv)
    data = load_locomo(args.data)
    overrides: dict[str, Any] = {"search_cache_size": 0}
    if args.model_dir:
        overrides["embedding_model_dir"] = Path(args.model_dir)
    started = time.perf_counter()
    results, latencies, channels = evaluate(data, overrides)
    cuts = statistics.quantiles(latencies, n=100)
    print(f"LoCoMo dev: {len(data.questions)} questions; vector channel: {', '.join(sorted(channels))}")
    print(table(results))
    total = time.perf_counter() - started
    print(f"\nsearch latency: p50 {cuts[49]:.2f} ms, p95 {cuts[94]:.2f} ms; total {total:.1f} s")
    if args.json:
        Path(args.json).write_text(json.dumps({"results": results, "p50_ms": cuts[49], "p95_ms": cuts[94]}, indent=2))


if __name__ == "__main__":
    main(sys.argv[1:])
