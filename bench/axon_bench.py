"""axon and webhooks on a live `engram serve`: publish -> SSE delivery latency with N subscribers,
sustained events/s, and webhook delivery throughput to a receiver on loopback.

Starts the server on a fresh data dir (no embedding model: nothing else competes), opens N SSE streams
(``GET /axon/stream``, one asyncio httpx client each), publishes events one at a time and records, for
every (subscriber, event), the time from just before the POST to the event's arrival on the stream.
Then publishes as fast as C concurrent publishers can for a few seconds (events/s accepted, and whether
every subscriber received every event). Last, registers a webhook to a local receiver (aiohttp-free:
a raw asyncio HTTP server answering 200) and times N deliveries.

Usage::

    PYTHONPATH=. python bench/axon_bench.py --subscribers 50 --events 200 --burst-seconds 5 --deliveries 300 --hooks 10
    PYTHONPATH=. python bench/axon_bench.py --subscribers 0 ...   # the publish rate alone
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.e2e.support import free_port  # noqa: E402


def _pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


async def _subscriber(
    base: str, headers: dict[str, str], got: dict[int, float], ready: asyncio.Event, stop: asyncio.Event
) -> None:
    client = httpx.AsyncClient(base_url=base, headers=headers, timeout=None)
    async with client, client.stream("GET", "/axon/stream", params={"channels": "bench"}) as r:
        ready.set()
        rest = b""
        async for chunk in r.aiter_raw():  # only the id lines are read: the client should not be the bottleneck
            now = time.perf_counter()
            lines = (rest + chunk).split(b"\n")
            rest = lines.pop()
            for line in lines:
                if line.startswith(b"id: "):
                    got[int(line[4:])] = now
            if stop.is_set():
                return


async def _run(args: argparse.Namespace, base: str, headers: dict[str, str]) -> dict[str, Any]:
    stop = asyncio.Event()
    received: list[dict[int, float]] = [{} for _ in range(args.subscribers)]
    readies = [asyncio.Event() for _ in range(args.subscribers)]
    subs = [
        asyncio.create_task(_subscriber(base, headers, received[i], readies[i], stop)) for i in range(args.subscribers)
    ]
    await asyncio.gather(*(e.wait() for e in readies))
    await asyncio.sleep(0.5)
    out: dict[str, Any] = {"subscribers": args.subscribers}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as pub:
        sent: dict[int, float] = {}
        for i in range(args.events):
            t0 = time.perf_counter()
            r = await pub.post("/axon/publish", json={"channel": "bench", "action": "tick", "payload": {"i": i}})
            sent[int(r.json()["id"])] = t0
            await asyncio.sleep(args.gap)
        await asyncio.sleep(1.0)
        lat = [(got[eid] - t0) * 1000 for got in received for eid, t0 in sent.items() if eid in got] or [float("nan")]
        out["latency_ms"] = {
            "n": len(lat) if received else 0,
            "expected": len(sent) * args.subscribers,
            "p50": round(_pct(lat, 50), 2),
            "p95": round(_pct(lat, 95), 2),
            "max": round(max(lat), 2),
        }
        # Sustained: C publishers as fast as they can.
        burst: list[int] = []
        deadline = time.perf_counter() + args.burst_seconds

        async def publisher() -> None:
            async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as c:
                while time.perf_counter() < deadline:
                    r = await c.post("/axon/publish", json={"channel": "bench", "action": "burst", "payload": {}})
                    burst.append(int(r.json()["id"]))

        t0 = time.perf_counter()
        await asyncio.gather(*(publisher() for _ in range(args.publishers)))
        elapsed = time.perf_counter() - t0
        settle = time.perf_counter() + 30
        while time.perf_counter() < settle and not all(set(burst) <= set(g) for g in received):
            await asyncio.sleep(0.1)
        drained = time.perf_counter() - t0
        complete = sum(1 for g in received if set(burst) <= set(g))
        out["sustained"] = {
            "events": len(burst),
            "seconds": round(elapsed, 2),
            "events_per_s": round(len(burst) / elapsed, 1),
            "deliveries_per_s": round(len(burst) * args.subscribers / drained, 1),
            "subscribers_with_every_event": complete,
        }
    stop.set()
    for t in subs:
        t.cancel()
    await asyncio.gather(*subs, return_exceptions=True)
    return out


async def _webhooks(args: argparse.Namespace, base: str, headers: dict[str, str]) -> dict[str, Any]:
    seen: list[float] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(
                    int(h.split(b":")[1]) for h in head.split(b"\r\n") if h.lower().startswith(b"content-length")
                )
                await reader.readexactly(length)
                seen.append(time.perf_counter())
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, StopIteration, asyncio.CancelledError):
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as c:
        for h in range(args.hooks):
            url = f"http://127.0.0.1:{port}/hook{h}"
            if args.via_subscriptions:  # an agent's subscription to the channel with a webhook_url
                r = await c.post("/axon/subscribe", json={"agent": f"agent{h}", "channel": "hooks", "webhook_url": url})
            else:
                r = await c.post("/webhooks", json={"url": url, "events": ["hook.test"]})
            r.raise_for_status()
        t0 = time.perf_counter()
        for _ in range(args.deliveries):
            await c.post("/axon/publish", json={"channel": "hooks", "action": "hook.test", "payload": {"x": 1}})
        published = time.perf_counter() - t0
        deadline = time.perf_counter() + 120
        while len(seen) < args.deliveries * args.hooks and time.perf_counter() < deadline:
            await asyncio.sleep(0.05)
    server.close()
    total = (seen[-1] - t0) if seen else float("nan")
    return {
        "via": "axon subscriptions" if args.via_subscriptions else "webhooks",
        "hooks": args.hooks,
        "events": args.deliveries,
        "deliveries": len(seen),
        "publish_seconds": round(published, 2),
        "last_delivery_after_s": round(total, 2),
        "deliveries_per_s": round(len(seen) / total, 1),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--subscribers", type=int, default=50)
    ap.add_argument("--events", type=int, default=200)
    ap.add_argument("--gap", type=float, default=0.02, help="seconds between latency-probe publishes")
    ap.add_argument("--publishers", type=int, default=4)
    ap.add_argument("--burst-seconds", type=float, default=5.0)
    ap.add_argument("--deliveries", type=int, default=500, help="events published to the webhooks")
    ap.add_argument("--hooks", type=int, default=10, help="webhooks subscribed to each event")
    ap.add_argument("--via-subscriptions", action="store_true", help="hooks as axon subscriptions with a webhook_url")
    ap.add_argument("--webhooks-only", action="store_true", help="skip the SSE latency and burst parts")
    args = ap.parse_args()
    data = Path(tempfile.mkdtemp(prefix="axon-bench-"))
    port = free_port()
    env = {
        **os.environ,
        "ENGRAM_DATA_DIR": str(data / "data"),
        "ENGRAM_PORT": str(port),
        "ENGRAM_LOG_LEVEL": "warning",
        "ENGRAM_WEBHOOK_ALLOW_PRIVATE": "true",
        "ENGRAM_AXON_STREAM_BUFFER": "100000",
        "ENGRAM_EMBEDDING_MODEL_DIR": str(data / "none"),
    }
    env.pop("ENGRAM_BOOTSTRAP_SECRET", None)
    made = subprocess.run(
        [sys.executable, "-m", "engram_core.cli", "keys", "create", "--admin"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    headers = {"Authorization": f"Bearer {made.stdout.strip().splitlines()[-1]}"}
    base = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen([sys.executable, "-m", "engram_core.cli", "serve"], env=env)
    try:
        for _ in range(300):
            try:
                if httpx.get(base + "/health/ready", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        result = {} if args.webhooks_only else asyncio.run(_run(args, base, headers))
        result["webhooks"] = asyncio.run(_webhooks(args, base, headers))
        print(json.dumps(result, indent=2))
    finally:
        proc.terminate()
        proc.wait(timeout=30)


if __name__ == "__main__":
    main()
