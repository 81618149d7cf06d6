"""How long the embed threads wait for work, during the bare embedder and during an ingest of the same kind of texts.

    ENGRAM_MODELS_DIR=/work/main/data/models .venv/bin/python bench/ingest_idle.py [--messages 1000] [--rounds 2]

Tells a feeding gap (the ingest leaves the embed threads without work between batches: their idle share is
higher than the bare run's) from contention (the threads have work but run slower: the same idle share, a
lower rate). ``LaneExecutor._next`` (where an embed thread waits for its next item) is wrapped with a wall-clock
counter per thread. Each round runs the bare embedder and the ingest on its own export (order alternating); the
ingest's follow-up jobs are dropped unrun, as in ``ingest_chatgpt_bench.py --rounds``.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.ingest_chatgpt_bench import bare, export, ingest  # noqa: E402
from bench.scratch import scratch_engram  # noqa: E402
from engram_core.embeddings import lanes  # noqa: E402
from engram_core.engram import Engram  # noqa: E402

IDLE: collections.Counter[str] = collections.Counter()


def install() -> None:
    wait = lanes.LaneExecutor._next

    def counted(self: lanes.LaneExecutor) -> Any:
        t0 = time.perf_counter()
        try:
            return wait(self)
        finally:
            IDLE[threading.current_thread().name] += time.perf_counter() - t0

    lanes.LaneExecutor._next = counted  # type: ignore[method-assign]


async def run(engram: Engram, messages: int, rounds: int) -> None:
    await engram.start()
    await engram.jobs.stop()
    batch = engram.settings.ingest_batch
    await bare(engram, export(batch * 2, seed=15)[1], batch)
    for r in range(rounds):
        data, texts = export(messages, seed=30 + r)
        for step in ("bare", "ingest") if r % 2 == 0 else ("ingest", "bare"):
            IDLE.clear()
            t0, cpu0 = time.perf_counter(), time.process_time()
            if step == "bare":
                await bare(engram, texts, batch)
            else:
                await engram.jobs.start()
                await ingest(engram, data)
                await engram.jobs.stop()
                await engram.db.awrite(lambda c: c.execute("DELETE FROM jobs WHERE status IN ('queued', 'running')"))
            took, cpu = time.perf_counter() - t0, time.process_time() - cpu0
            idle = " ".join(f"{k} {v / took:.2f}" for k, v in sorted(IDLE.items()) if "embed" in k)
            print(f"round {r + 1} {step:6s}: {messages / took:6.1f}/s, CPU {1000 * cpu / messages:.1f} ms a message;"
                  f" idle share: {idle}; load {os.getloadavg()[0]:.1f}", flush=True)  # fmt: skip
    await engram.stop()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    install()
    with scratch_engram() as engram:
        asyncio.run(run(engram, args.messages, args.rounds))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
