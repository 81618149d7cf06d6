"""Chat proxy overhead and streaming pass-through, over real HTTP, one user with N memories.

Setup: the data dir of ``bench/search_latency.py`` (N embedded memories, minilm), ``engram serve`` on a
free loopback port pointed at a fake OpenAI-compatible provider (tests/fake_openai.py, a thread in this
process; it records the monotonic time each request arrives and each stream chunk is written; CLOCK_MONOTONIC
is one clock for every process on the machine).

* **Overhead** (non-streaming, memory injection and extraction on): for each request, the time from the
  client sending it to the provider receiving it, via Engram, minus the same figure sent straight to the
  provider (the baseline hop): what Engram adds before the first byte is forwarded (auth, parse, retrieval
  with hybrid search over N memories, injection, the second HTTP hop). Also the server's own ``overhead_ms``
  from the retrieval logs (handler start -> request built, no HTTP).
* **Reference**: a plain ``POST /search`` (limit 12) for a query of the same kind, interleaved, so a run on a
  loaded machine can be read against the search latency of the same moment.
* **Streaming**: the provider writes 8 chunks 50 ms apart; for every chunk, the time from the provider
  writing it to the client receiving it through Engram.

Usage::

    PYTHONPATH=. python bench/proxy_bench.py --model-dir DIR [--n 10000] [--requests 200] [--keep DIR] [--think S]

``--think S`` waits S seconds before each exchange, as a user reading the answer and typing the next message
would. Back to back (0, the default) each exchange's extraction (an LLM call and the stores it makes, off
the request path) has not finished when the next request comes, so the work piles up and every request,
and the reference search with it, shares the CPU with it.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench.search_latency import _filled, _port, _text
from tests.fake_openai import FakeOpenAI


def _q(values: list[float]) -> dict[str, float]:
    cuts = statistics.quantiles(values, n=100)
    return {"p50": round(cuts[49], 2), "p95": round(cuts[94], 2), "max": round(max(values), 2)}


def _serve(data_dir: Path, model_dir: Path, provider: str) -> tuple[subprocess.Popen[bytes], str]:
    port = _port()
    env = {**os.environ, "ENGRAM_DATA_DIR": str(data_dir), "ENGRAM_PORT": str(port),
           "ENGRAM_EMBEDDING_MODEL_DIR": str(model_dir), "ENGRAM_SEARCH_CACHE_SIZE": "0",
           "ENGRAM_RATE_LIMIT_PER_MINUTE": "1000000", "ENGRAM_IP_RATE_LIMIT_PER_MINUTE": "1000000",
           "ENGRAM_LOG_LEVEL": "warning", "ENGRAM_PROXY_OPENAI_URL": provider}  # fmt: skip
    proc = subprocess.Popen([str(Path(sys.executable).parent / "engram"), "serve"], env=env)
    base = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            if httpx.get(base + "/health/live", timeout=1).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    proc.terminate()
    sys.exit("engram serve did not start")


def run(n: int, requests: int, model_dir: Path, keep: Path | None, think: float = 0.0) -> dict[str, Any]:
    rng = random.Random(7)
    base_dir = keep or Path(tempfile.mkdtemp(prefix="proxy-bench-"))
    data_dir, key, vocab, fill_s = _filled(base_dir, n, model_dir, rng)
    fake = FakeOpenAI(reply=lambda body: "Fine. " * 20)
    fake.chunks, fake.chunk_delay = 8, 0.05
    with fake:
        proc, base = _serve(data_dir, model_dir, fake.url)
        headers = {"Authorization": f"Bearer {key}"}
        try:
            with httpx.Client(timeout=30) as client:

                def body(stream: bool = False) -> dict[str, Any]:
                    chat = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": _text(rng, vocab)}]
                    return {"model": "m", "stream": stream, "messages": chat}

                def hop(url: str, extra: dict[str, str]) -> float:
                    before = len(fake.arrivals)
                    t = time.monotonic()
                    r = client.post(url, json=body(), headers=extra)
                    assert r.status_code == 200, r.text
                    return (fake.arrivals[before] - t) * 1000

                for _ in range(10):  # warm up both paths (model, index, connections)
                    hop(base + "/v1/chat/completions", headers)
                    hop(fake.url + "/chat/completions", {})
                via, direct, search = [], [], []
                for _ in range(requests):
                    time.sleep(think)  # a user reading and typing (the exchange's extraction runs meanwhile)
                    via.append(hop(base + "/v1/chat/completions", headers))
                    direct.append(hop(fake.url + "/chat/completions", {}))
                    t = time.monotonic()  # reference: a plain /search for a query of the same kind
                    client.post(base + "/search", json={"query": _text(rng, vocab), "limit": 12}, headers=headers)
                    search.append((time.monotonic() - t) * 1000)
                added = [v - d for v, d in zip(via, direct, strict=True)]
                time.sleep(1.0)  # the last logs are written after the answers
                logs = client.get(base + "/logs", params={"limit": 500}, headers=headers).json()["logs"]
                server = [e["timings"]["overhead_ms"] for e in logs[:requests]]
                retrieval = [e["timings"]["retrieval_ms"] for e in logs[:requests]]
                injected = statistics.mean(len(e["memories"]) for e in logs[:requests])
                tokens = statistics.mean(e["tokens_injected"] for e in logs[:requests])
                delays: list[float] = []
                for _ in range(20):
                    fake.sent_at.clear()
                    arrivals: list[float] = []
                    with client.stream("POST", base + "/v1/chat/completions", json=body(True), headers=headers) as r:
                        for raw in r.iter_raw():
                            now = time.monotonic()
                            arrivals += [now] * raw.count(b"data:")
                    delays += [(a - s) * 1000 for a, s in zip(arrivals, fake.sent_at, strict=False)]
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    return {"n": n, "requests": requests, "think_s": think, "fill_s": round(fill_s, 1),
            "added_before_first_byte_ms": _q(added), "via_engram_ms": _q(via), "direct_ms": _q(direct),
            "search_reference_ms": _q(search),
            "server_overhead_ms": _q(server), "server_retrieval_ms": _q(retrieval),
            "memories_injected_mean": round(injected, 1), "tokens_injected_mean": round(tokens, 1),
            "stream_chunk_delay_ms": _q(delays), "stream_chunks": len(delays)}  # fmt: skip


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-dir", type=Path, required=True)
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--keep", type=Path, help="keep and reuse filled data dirs here")
    parser.add_argument(
        "--think", type=float, default=0.0, help="seconds between exchanges (0: back to back, extraction piles up)"
    )
    args = parser.parse_args(argv)
    for k, v in run(args.n, args.requests, args.model_dir, args.keep, args.think).items():
        print(f"{k}: {v}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
