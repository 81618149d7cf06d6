"""SQLCipher overhead through the Engram library: store and search, encrypted vs plain, same run.

    PYTHONPATH=. python bench/encryption_overhead.py [--memories 1000] [--queries 200] [--rounds 3]

For each round, a plain and an encrypted (env-mode key) data dir are opened with ``Engram.open`` (no
embedding model: the store path is validate -> SimHash check -> one write transaction with its FTS row,
FSRS state and audit row; search is the FTS channel + fusion + boosts), then ``memories.store`` is timed
over N distinct sentences and ``search.search`` over M queries. The order of the variants alternates by
round. Prints per-operation medians (ms) and the encrypted/plain ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engram_core.auth.context import AuthContext  # noqa: E402
from engram_core.engram import Engram  # noqa: E402
from engram_core.settings import Settings  # noqa: E402

WORDS = [
    "harbour", "violin", "orchard", "lantern", "granite", "otter", "comet", "tulip", "glacier", "heron", "kite",
    "ferry", "meadow", "copper", "saffron", "thunder", "willow", "quartz", "ember", "maple", "puzzle", "rocket",
    "canyon", "pepper", "velvet", "marble", "falcon",
]  # fmt: skip


def _sentences(n: int, rng: random.Random) -> list[str]:
    return [" ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 20))) + f" #{i} {rng.getrandbits(64):x}"
            for i in range(n)]  # fmt: skip


async def _run(engram: Engram, texts: list[str], queries: list[str]) -> tuple[list[float], list[float]]:
    auth = AuthContext.local()
    stores: list[float] = []
    for text in texts:
        t = time.perf_counter()
        await engram.memories.store(auth, {"content": text})
        stores.append((time.perf_counter() - t) * 1000)
    searches: list[float] = []
    for q in queries:
        t = time.perf_counter()
        await engram.search.search(auth, {"query": q, "limit": 10})
        searches.append((time.perf_counter() - t) * 1000)
    return stores, searches


def _one(encrypted: bool, texts: list[str], queries: list[str]) -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as tmp:
        extra = {"encryption_mode": "env", "db_key": os.urandom(32).hex()} if encrypted else {}
        settings = Settings.for_data_dir(Path(tmp), embedding_model="none", **extra)
        engram = Engram.open(settings)
        try:
            user = "INSERT INTO users (id, name, is_admin, created_at) VALUES (1, 'bench', 1, '2026-01-01T00:00:00Z')"
            engram.db.write(lambda c: c.execute(user))
            stores, searches = asyncio.run(_run(engram, texts, queries))
        finally:
            engram.close()
    return statistics.median(stores), statistics.median(searches)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--memories", type=int, default=1000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    rng = random.Random(7)
    texts = _sentences(args.memories, rng)
    queries = [" ".join(rng.sample(WORDS, rng.randint(1, 3))) for _ in range(args.queries)]
    print(
        f"# {platform.machine()} python {platform.python_version()} memories={args.memories} "
        f"queries={args.queries} rounds={args.rounds} load={os.getloadavg()[0]:.2f}"
    )
    results: dict[bool, list[tuple[float, float]]] = {False: [], True: []}
    for r in range(args.rounds):
        for enc in (False, True) if r % 2 == 0 else (True, False):
            results[enc].append(_one(enc, texts, queries))
    plain_s = statistics.median(x[0] for x in results[False])
    enc_s = statistics.median(x[0] for x in results[True])
    plain_q = statistics.median(x[1] for x in results[False])
    enc_q = statistics.median(x[1] for x in results[True])
    print("| operation | plain (ms, median) | encrypted (ms, median) | ratio enc/plain |")
    print("|---|---|---|---|")
    print(f"| memories.store | {plain_s:.3f} | {enc_s:.3f} | {enc_s / plain_s:.2f} |")
    print(f"| search.search | {plain_q:.3f} | {enc_q:.3f} | {enc_q / plain_q:.2f} |")


if __name__ == "__main__":
    main()
