"""Where an ingest's time goes beyond the embedding: time counters around each stage of a ChatGPT-export ingest.

    ENGRAM_MODELS_DIR=/work/main/data/models .venv/bin/python bench/ingest_stages.py [--messages 3000]

The same export as ``ingest_chatgpt_bench.py``. The bare embedder runs once before the ingest; then the stages
of ``IngestService`` / ``MemoryService.store_many`` / the write thread are wrapped with wall-clock counters
(the wrappers are installed on the instance and module names the code calls through, nothing else changes) and
the ingest runs to its end. Printed per stage: seconds, calls, ms per message. Stages nest (``ingest prepare``
holds ``prepare_many``, which holds ``embed``; ``ingest write`` holds ``write_many``) and the prepare of the
next batch overlaps the write of the current one, so the column does not add up; ``tx_total`` is every write
transaction of the run (the ingest's and the job queue's), measured by the write thread.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import functools
import os
import re
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import engram_core.memories.service as memory_service  # noqa: E402
import engram_core.memories.writes as memory_writes  # noqa: E402
from bench.ingest_chatgpt_bench import bare, export  # noqa: E402
from bench.scratch import scratch_engram  # noqa: E402
from engram_core.auth.context import AuthContext  # noqa: E402
from engram_core.engram import Engram  # noqa: E402

SECONDS: collections.Counter[str] = collections.Counter()
CPU: collections.Counter[str] = collections.Counter()  # the calling thread's CPU time (sync stages only)
CALLS: collections.Counter[str] = collections.Counter()


def timed(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        t0, c0 = time.perf_counter(), time.thread_time()
        try:
            return fn(*args, **kwargs)
        finally:
            SECONDS[name] += time.perf_counter() - t0
            CPU[name] += time.thread_time() - c0
            CALLS[name] += 1

    return wrapper


def atimed(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return await fn(*args, **kwargs)
        finally:
            SECONDS[name] += time.perf_counter() - t0
            CALLS[name] += 1

    return wrapper


def thread_cpu() -> collections.Counter[str]:
    """CPU seconds (user + system) of each live thread of this process, from ``/proc``, by thread name (numbered
    pool threads summed under one name; threads Python did not start under their kernel name)."""
    names = {t.native_id: t.name for t in threading.enumerate()}
    tick = os.sysconf("SC_CLK_TCK")
    out: collections.Counter[str] = collections.Counter()
    for tid in os.listdir("/proc/self/task"):
        try:
            stat = Path(f"/proc/self/task/{tid}/stat").read_text()
        except OSError:
            continue  # ended meanwhile
        comm, rest = stat[stat.index("(") + 1 : stat.rindex(")")], stat[stat.rindex(")") + 2 :].split()
        name = names.get(int(tid)) or f"native {comm}"
        name = re.sub(r"(Thread-\d+ \(|_\d+$|-\d+$|\d+$)", "", name).rstrip(")") or name
        out[name] += (int(rest[11]) + int(rest[12])) / tick
    return out


def instrument(engram: Engram) -> None:
    svc = engram.memories
    svc.vectors.embed = atimed("embed", svc.vectors.embed)  # type: ignore[method-assign]
    svc._prepare_hooks[:] = [timed(f"before_write {h.__module__}.{h.__name__}", h) for h in svc._prepare_hooks]
    svc._tx_hooks[:] = [timed(f"in_write_tx {h.__name__}", h) for h in svc._tx_hooks]
    for k, h in list(svc._batch_hooks.items()):
        svc._batch_hooks[k] = timed(f"in_write_tx (batch) {h.__name__}", h)
    for name in ("find_recent_duplicate", "find_recent_duplicates", "fingerprint"):
        if hasattr(memory_service, name):  # the batch lookup is newer than the bench
            setattr(memory_service, name, timed(name, getattr(memory_service, name)))
    memory_writes.insert_memory = timed("insert_memory", memory_writes.insert_memory)  # type: ignore[assignment]
    engram.db._pre_commit = [timed(f"before_commit {getattr(h, '__qualname__', h)}", h) for h in engram.db._pre_commit]

    def on_tx(seconds: float) -> None:
        SECONDS["tx_total"] += seconds
        CALLS["tx_total"] += 1

    engram.db.on_transaction = on_tx
    write_many = svc.write_many

    async def write_many_timed(auth: AuthContext, batch: Any, **kwargs: Any) -> Any:
        if kwargs.get("in_tx") is not None:
            kwargs["in_tx"] = timed("ingest in_tx (episodes, cursor)", kwargs["in_tx"])
        return await write_many(auth, batch, **kwargs)

    svc.write_many = atimed("write_many (queue wait + transaction)", write_many_timed)  # type: ignore[method-assign]
    svc.prepare_many = atimed("prepare_many (embed, SimHash, hooks)", svc.prepare_many)  # type: ignore[method-assign]
    engram.ingest._parse = timed("parse", engram.ingest._parse)  # type: ignore[method-assign]
    engram.ingest._prepare = atimed("ingest prepare (one batch ahead)", engram.ingest._prepare)  # type: ignore[method-assign]
    engram.ingest._write = atimed("ingest write", engram.ingest._write)  # type: ignore[method-assign]


async def run(engram: Engram, messages: int) -> None:
    await engram.start()
    batch = engram.settings.ingest_batch
    data, _ = export(messages)
    docs = engram.ingest._parse(data, "conversations.json", None)
    chunks = [c.content for d in docs for c in d.chunks]
    await bare(engram, chunks[: batch * 2], batch)
    cpu0, threads0 = time.process_time(), thread_cpu()
    first = await bare(engram, chunks, batch)
    cpu_bare, threads_bare = time.process_time() - cpu0, thread_cpu() - threads0
    instrument(engram)
    t0, cpu0, threads0 = time.perf_counter(), time.process_time(), thread_cpu()
    made = await engram.ingest.submit(AuthContext.local(1), data, {"filename": "conversations.json"})
    while (job := await engram.ingest.job(made["job_id"], None))["status"] not in ("done", "failed"):
        await asyncio.sleep(0.05)
    took, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    threads = thread_cpu()
    threads.subtract(threads0)
    seconds, calls = dict(SECONDS), dict(CALLS)
    print(f"ingest {messages / took:.1f} messages/s ({took:.1f} s), stored {job['ingest']['stored']}; bare embedder"
          f" {len(chunks) / first:.1f} texts/s ({first:.1f} s); ratio {first / took:.2f}")  # fmt: skip
    print(f"CPU ms a message: bare embedder {1000 * cpu_bare / len(chunks):.2f}, ingest {1000 * cpu / messages:.2f}")
    print(f"{'thread (CPU ms a message)':58s} {'bare':>8s} {'ingest':>8s}")
    for name in sorted(set(threads) | set(threads_bare), key=lambda n: -threads[n]):
        if threads[name] or threads_bare[name]:
            bare_ms, ingest_ms = 1000 * threads_bare[name] / len(chunks), 1000 * threads[name] / messages
            print(f"{name[:58]:58s} {bare_ms:8.2f} {ingest_ms:8.2f}")
    print("stages: wall-clock (waits for the GIL and the cores included) and, for the synchronous ones, the CPU")
    print("time of the thread that ran them (load-independent)")
    print(f"{'stage':58s} {'seconds':>8s} {'calls':>6s} {'ms/message':>10s} {'CPU ms/msg':>10s}")
    for name, total in sorted(seconds.items(), key=lambda kv: -kv[1]):
        own = f"{1000 * CPU[name] / messages:10.3f}" if name in CPU else f"{'':10s}"
        print(f"{name[:58]:58s} {total:8.2f} {calls[name]:6d} {1000 * total / messages:10.3f} {own}")
    await engram.stop()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=3000)
    args = parser.parse_args()
    print(f"load {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    with scratch_engram() as engram:
        asyncio.run(run(engram, args.messages))
    print(f"load at the end {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
