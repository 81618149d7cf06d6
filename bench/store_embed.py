"""Store-path embedding throughput against a bare onnxruntime session, real MiniLM.

    .venv/bin/python bench/store_embed.py [--memories 512] [--concurrency 64]

Concurrent stores go through the whole pipeline (validation, SimHash check, micro-batched embedding on
the embed thread, one write transaction each). The bare session embeds the same texts in batches of 32,
pre-tokenised, in the same run. Target: store throughput within 25% of the bare session.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.embed_bench import _raw_session  # noqa: E402
from engram_core.auth.context import AuthContext  # noqa: E402
from engram_core.auth.users import create_user  # noqa: E402
from engram_core.embeddings.onnx_model import load_tokenizer, pad_batch  # noqa: E402
from engram_core.embeddings.registry import ensure  # noqa: E402
from engram_core.engram import Engram  # noqa: E402
from engram_core.settings import Settings  # noqa: E402

SUBJECTS = ["Alice", "The deploy", "Our team", "My sister", "The database", "The client", "Bob", "The garden"]
VERBS = ["moved to", "prefers", "failed on", "is planning", "grew by", "asked about", "cancelled", "needs"]
OBJECTS = ["Thursday", "green tea", "the staging cluster", "a trip to Lisbon", "50 MB a week",
           "the quarterly report", "the piano lessons", "a new API key"]  # fmt: skip


def texts(n: int) -> list[str]:
    return [f"{SUBJECTS[i % 8]} {VERBS[(i // 8) % 8]} {OBJECTS[(i // 64) % 8]} (note {i})." for i in range(n)]


async def store_all(engram: Engram, items: list[str], concurrency: int) -> float:
    auth = AuthContext.local(1)
    sem = asyncio.Semaphore(concurrency)

    async def one(text: str) -> None:
        async with sem:
            assert (await engram.memories.store(auth, {"content": text}))["stored"]

    start = time.perf_counter()
    await asyncio.gather(*(one(t) for t in items))
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--memories", type=int, default=512)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    base = Settings.from_env()
    found = ensure("minilm", base)
    items = texts(args.memories)
    tok, pad = load_tokenizer(found.directory / found.info.tokenizer, 256)
    raw = _raw_session(found.directory / found.info.onnx, os.cpu_count() or 1)
    encs = sorted(tok.encode_batch(items), key=lambda e: len(e.ids))
    feeds = []
    for start in range(0, len(encs), 32):
        ids, mask, types = pad_batch(encs[start : start + 32], pad, True)
        feeds.append({"input_ids": ids, "attention_mask": mask, "token_type_ids": types})
    raw_rates, store_rates = [], []
    for _ in range(args.rounds):
        t0 = time.perf_counter()
        for f in feeds:
            raw.run(None, f)
        raw_rates.append(len(items) / (time.perf_counter() - t0))
        with tempfile.TemporaryDirectory() as tmp:
            settings = base.replace(data_dir=Path(tmp), db_path=Path(tmp) / "engram.db", models_dir=base.models_dir)
            engram = Engram.open(settings)
            engram.db.write(lambda c: create_user(c, None, "bench", is_admin=True))
            elapsed = asyncio.run(store_all(engram, items, args.concurrency))
            store_rates.append(len(items) / elapsed)
            asyncio.run(engram.vectors.close())
            engram.close()
    r, s = statistics.median(raw_rates), statistics.median(store_rates)
    print(f"model {found.info.fingerprint}; {len(items)} texts; load average {os.getloadavg()[0]:.2f}")
    print(f"bare session, batches of 32: {r:.0f} texts/s")
    print(f"store path, {args.concurrency} concurrent stores: {s:.0f} stores/s (ratio store/bare {s / r:.2f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
