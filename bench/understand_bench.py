"""Store throughput with the post-store ``understand`` job (decomposition, facts, contradictions, affect).

    PYTHONPATH=. python bench/understand_bench.py [--model-dir DIR] [--memories 600] [--concurrency 16]

Stores the first ``--memories`` LoCoMo turns (real chat text, one conversation after another) into a fresh
Engram twice: with ``ENGRAM_UNDERSTAND_ON_STORE=false`` and with it on. Reports the request-path store
throughput (the job runs after the commit, so it should barely move), how long the queued jobs take to
drain after the last store, and what they produced: fact memories per stored memory, structured facts,
contradictions, and the database size.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.locomo_data import DEFAULT_PATH, load_locomo
from engram_core.auth.context import AuthContext
from engram_core.engram import Engram
from engram_core.settings import Settings


async def _run(texts: list[str], overrides: dict[str, Any], concurrency: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        engram = Engram.open(Settings.for_data_dir(Path(tmp) / "data", **overrides))
        try:
            engram.db.write(lambda c: c.execute("INSERT INTO users (id, name, created_at) VALUES (1, 'bench', 'x')"))
            await engram.start()
            auth = AuthContext.local(1)
            sem = asyncio.Semaphore(concurrency)

            async def one(text: str) -> None:
                async with sem:
                    await engram.memories.store(auth, {"content": text})

            started = time.perf_counter()
            await asyncio.gather(*(one(t) for t in texts))
            stored = time.perf_counter() - started
            await engram.jobs.drain(timeout=3600)
            drained = time.perf_counter() - started

            def counts(conn: Any) -> dict[str, Any]:
                q = conn.execute
                return {
                    "memories": q("SELECT count(*) FROM memories WHERE is_fact = 0").fetchone()[0],
                    "fact_memories": q("SELECT count(*) FROM memories WHERE is_fact = 1").fetchone()[0],
                    "decomposed": q("SELECT count(*) FROM memories WHERE is_decomposed = 1").fetchone()[0],
                    "facts": q("SELECT count(*) FROM facts").fetchone()[0],
                    "contradictions": q("SELECT count(*) FROM contradictions").fetchone()[0],
                    "scored": q("SELECT count(*) FROM memories WHERE valence IS NOT NULL").fetchone()[0],
                    "db_kib": q(
                        "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()"
                    ).fetchone()[0]
                    // 1024,
                }

            out = await engram.db.aread(counts)
            return {**out, "store_s": stored, "stores_per_s": len(texts) / stored, "drain_s": drained - stored}
        finally:
            await engram.stop()
            engram.close()


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-dir", default=None)
    parser.add_argument("--memories", type=int, default=600)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args(argv)
    data = load_locomo(DEFAULT_PATH)
    texts = [t.text for turns in data.turns.values() for t in turns][: args.memories]
    base: dict[str, Any] = {"search_cache_size": 0}
    if args.model_dir:
        base["embedding_model_dir"] = Path(args.model_dir)
    print(f"{len(texts)} LoCoMo turns, {args.concurrency} concurrent stores, model: {args.model_dir or 'none'}")
    print("| understand on store | stores/s | jobs drained after | fact memories | decomposed | facts | "
          "contradictions | valence scored | DB KiB |\n|---|---|---|---|---|---|---|---|---|")  # fmt: skip
    for on in (False, True):
        r = asyncio.run(_run(texts, {**base, "understand_on_store": on}, args.concurrency))
        cells = [r["fact_memories"], r["decomposed"], r["facts"], r["contradictions"], r["scored"], r["db_kib"]]
        head = f"| {'on' if on else 'off'} | {r['stores_per_s']:.0f} | {r['drain_s']:.1f} s | "
        print(head + " | ".join(str(c) for c in cells) + " |")


if __name__ == "__main__":
    main(sys.argv[1:])
