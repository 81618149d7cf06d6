"""What deletion that really deletes costs: store, update, search and purge latency through the library.

    PYTHONPATH=. python bench/purge_cost.py [--memories 2000] [--purges 50] [--encrypted]

A data dir is opened with ``Engram.open`` (no embedding model: store is validate -> SimHash -> one write
transaction with its FTS row, FSRS state and audit row). Timed, per call: ``memories.store`` over N
distinct sentences, ``memories.update`` (a new version: FTS delete + insert) on 200 of them,
``search.search`` over 200 queries, then ``memories.purge`` on P memories, each after 20 more stores so
the WAL holds fresh pages as in real use (a purge now ends with a TRUNCATE checkpoint of the WAL).
Prints medians and p95 in ms, the SQLite engine, and the WAL size left after the last purge. Run it
from two trees (before/after) to compare; alternate them on a shared machine.
"""

from __future__ import annotations

import argparse
import asyncio
import os
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


def _text(i: int, rng: random.Random) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 20))) + f" #{i} {rng.getrandbits(64):x}"


def _ms(samples: list[float]) -> str:
    p95 = statistics.quantiles(samples, n=20)[-1] if len(samples) >= 20 else max(samples)
    return f"{statistics.median(samples):.3f} / {p95:.3f}"


async def _timed(fn: object, *args: object) -> tuple[float, object]:
    t = time.perf_counter()
    result = await fn(*args)  # type: ignore[operator]
    return (time.perf_counter() - t) * 1000, result


async def _run(engram: Engram, n: int, purges: int, rng: random.Random) -> dict[str, list[float]]:
    auth = AuthContext.local()
    out: dict[str, list[float]] = {"store": [], "update": [], "search": [], "purge": []}
    ids: list[int] = []
    for i in range(n):
        ms, r = await _timed(engram.memories.store, auth, {"content": _text(i, rng)})
        out["store"].append(ms)
        ids.append(int(r[1]["id"]) if isinstance(r, tuple) else int(r["id"]))  # type: ignore[index]
    for k, memory_id in enumerate(rng.sample(ids, 200)):
        ms, _ = await _timed(engram.memories.update, auth, memory_id, {"content": _text(n + k, rng)})
        out["update"].append(ms)
    for _ in range(200):
        ms, _ = await _timed(engram.search.search, auth, {"query": " ".join(rng.sample(WORDS, 2)), "limit": 10})
        out["search"].append(ms)
    for p in range(purges):
        for j in range(20):
            r = await engram.memories.store(auth, {"content": _text(10 * n + 20 * p + j, rng)})
            ids.append(int(r[1]["id"]) if isinstance(r, tuple) else int(r["id"]))
        victim = ids.pop(rng.randrange(len(ids)))
        ms, _ = await _timed(engram.memories.purge, auth, victim)
        out["purge"].append(ms)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--memories", type=int, default=2000)
    parser.add_argument("--purges", type=int, default=50)
    parser.add_argument("--encrypted", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        extra = {"encryption_mode": "env", "db_key": os.urandom(32).hex()} if args.encrypted else {}
        settings = Settings.for_data_dir(Path(tmp), bootstrap_secret="bench", embedding_model="none", **extra)
        engram = Engram.open(settings)
        try:
            user = "INSERT INTO users (id, name, is_admin, created_at) VALUES (1, 'bench', 1, '2026-01-01T00:00:00Z')"
            engram.db.write(lambda c: c.execute(user))
            conn = engram.db._write_conn
            engine = type(conn).__module__.split(".")[0] + " " + conn.execute("select sqlite_version()").fetchone()[0]
            out = asyncio.run(_run(engram, args.memories, args.purges, random.Random(7)))
            wal = Path(str(settings.db_path) + "-wal")
            wal_bytes = wal.stat().st_size if wal.exists() else 0
        finally:
            engram.close()
    mode = "encrypted" if args.encrypted else "plain"
    print(f"# {mode}, engine {engine}, load {os.getloadavg()[0]:.1f}, WAL after last purge {wal_bytes} B")
    for name, samples in out.items():
        print(f"{mode} {name}: median / p95 ms = {_ms(samples)} (n={len(samples)})")


if __name__ == "__main__":
    main()
