"""Dashboard first paint and time to interactive, per page: a live `engram serve` holding N memories (no
model) with links, entities, pending memories and a contradiction, opened in headless Debian chromium via
Playwright; each page is loaded fresh (`/ui#<page>`, the key already in sessionStorage) --loads times.

Per page it prints, in ms from navigation start (median and max of the loads):
- first paint and first contentful paint (the browser's paint timing entries),
- DOMContentLoaded (the script has run and wired the page),
- ready: the page's data drawn (its marker element present, checked every animation frame): the memory list's
  rows, the graph's node list and canvas, the inbox count, the contradiction pairs, the key rows, the health
  charts; for Search, the results of one query typed after DOMContentLoaded.
Before the loads, the Graph page's GET /graph alone (without positions, laying out, cached); after them, the time
of one /metrics/prometheus scrape.

    .venv/bin/python bench/ui_bench.py --memories 10000
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.e2e.support import admin_key, free_port, start_server  # noqa: E402

# page -> the element that says its data is drawn
READY = {
    "memories": "#memory-list tbody tr",
    "search": "#results .result",
    "graph": "#graph-nodes li",
    "inbox": "#inbox-list tbody tr",
    "contradictions": "#contradiction-list .pair",
    "keys": "#key-list tbody tr",
    "health": "#latency-chart rect",
}
WORDS = ["otter", "granite", "violin", "harbour", "lantern", "meadow", "copper", "tundra"]
VOCAB = WORDS + [
    "river",
    "stone",
    "cloud",
    "ember",
    "falcon",
    "willow",
    "quartz",
    "saddle",
    "pepper",
    "orchid",
    "basalt",
    "cinder",
    "maple",
    "harp",
    "glacier",
    "lichen",
    "walnut",
    "comet",
    "thistle",
    "anchor",
    "prism",
    "juniper",
    "marble",
    "fennel",
    "canyon",
    "beacon",
]


def fill(base: str, headers: dict[str, str], memories: int, links: int) -> None:
    """N memories (tagged), `links` links among the first ones, an entity, 50 pending memories, one
    contradicting pair detected."""
    with httpx.Client(headers=headers, timeout=120) as client, ThreadPoolExecutor(16) as pool:

        def store(i: int) -> int:
            pick = random.Random(i)
            text = f"memory {i}: " + " ".join(pick.choice(VOCAB) for _ in range(12))
            r = client.post(f"{base}/store", json={"content": text, "tags": [WORDS[i % 8]]})
            r.raise_for_status()
            return int(r.json().get("id") or r.json()["existing_id"])  # a rare near-duplicate: the existing one

        ids = list(pool.map(store, range(memories)))

        def link(i: int) -> None:
            s, t = ids[i % len(ids)], ids[(i * 7 + 1) % min(len(ids), links)]
            if s != t:
                client.post(f"{base}/links", json={"source_id": s, "target_id": t})

        list(pool.map(link, range(links)))
        client.post(f"{base}/entities", json={"name": "Otter", "entity_type": "animal", "memory_ids": ids[:8]})
        pending = [{"content": f"pending note {i}", "status": "pending"} for i in range(50)]
        list(pool.map(lambda body: client.post(f"{base}/store", json=body), pending))
        client.post(f"{base}/store", json={"content": "The garage door opens by remote."})
        client.post(f"{base}/store", json={"content": "The garage door does not open by remote."})
        client.post(f"{base}/contradictions", json={"limit": 100}).raise_for_status()  # the newest
        client.post(f"{base}/graph/pagerank").raise_for_status()
        client.post(f"{base}/admin/detect-communities", json={}).raise_for_status()
        client.post(f"{base}/search", json={"query": "otter"})  # a sample for the latency chart
        client.post(f"{base}/search", json={"query": "granite"})


def measure(context: Any, base: str, page_name: str) -> dict[str, float]:
    page = context.new_page()
    page.goto(f"{base}/ui#{page_name}", wait_until="domcontentloaded")
    if page_name == "search":
        page.fill("#query", "otter violin")
        page.click("#search-form button")
    ready = page.wait_for_function(
        "sel => document.querySelector(sel) ? performance.now() : 0", arg=READY[page_name], polling="raf", timeout=60000
    ).json_value()
    timing = page.evaluate(
        """() => {
        const paint = Object.fromEntries(performance.getEntriesByType('paint').map((e) => [e.name, e.startTime]));
        const nav = performance.getEntriesByType('navigation')[0];
        return {fp: paint['first-paint'], fcp: paint['first-contentful-paint'], dcl: nav.domContentLoadedEventEnd};
        }"""
    )
    page.close()
    return {"first paint": timing["fp"], "first contentful paint": timing["fcp"], "DOMContentLoaded": timing["dcl"],
            "ready": float(ready)}  # fmt: skip


def graph_api(base: str, headers: dict[str, str]) -> None:
    """The Graph page's /graph request alone: without positions, then with them twice (the first lays the graph
    out on the server, the second is answered from the layout cache)."""
    url = f"{base}/graph?limit=300&entities=true"
    for label, query in (("no positions", ""), ("positions, laid out", "&positions=true"),
                         ("positions, cached", "&positions=true")):  # fmt: skip
        t = time.perf_counter()
        r = httpx.get(url + query, headers=headers, timeout=60)
        r.raise_for_status()
        print(f"GET /graph ({label}): {(time.perf_counter() - t) * 1000:.0f} ms, {r.json()['node_count']} nodes")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--memories", type=int, default=10000)
    parser.add_argument("--links", type=int, default=2000)
    parser.add_argument("--loads", type=int, default=5)
    parser.add_argument("--pages", default=",".join(READY), help="comma-separated (default: every page)")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        env = {**os.environ, "ENGRAM_DATA_DIR": f"{tmp}/data", "ENGRAM_PORT": str(port), "ENGRAM_EMBEDDING_MODEL": ""}
        env.pop("ENGRAM_BOOTSTRAP_SECRET", None)
        key = admin_key(env)
        proc = start_server(env)
        base = f"http://127.0.0.1:{port}"
        headers = {"Authorization": f"Bearer {key}"}
        try:
            t = time.perf_counter()
            fill(base, headers, args.memories, args.links)
            print(f"stored {args.memories} memories, {args.links} links in {time.perf_counter() - t:.1f} s")
            graph_api(base, headers)
            results: dict[str, list[dict[str, float]]] = {name: [] for name in args.pages.split(",")}
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=shutil.which("chromium"), args=["--no-sandbox"])
                context = browser.new_context(viewport={"width": 1280, "height": 800})
                context.add_init_script(f"sessionStorage.setItem('engram.key', {key!r})")
                measure(context, base, "memories")  # warm-up: the browser's and the server's first request
                for _ in range(args.loads):
                    for name in results:  # interleaved, so load on the machine touches every page alike
                        results[name].append(measure(context, base, name))
                browser.close()
            cols = ["first paint", "first contentful paint", "DOMContentLoaded", "ready"]
            print(f"\n| page | {' | '.join(cols)} |  (ms from navigation: median / max of {args.loads} loads)")
            print("|---|" + "---|" * len(cols))
            for name, runs in results.items():
                seen = {c: [r[c] for r in runs if r[c] is not None] for c in cols}  # a paint entry can be missing
                cells = [f"{statistics.median(seen[c]):.0f} / {max(seen[c]):.0f}" if seen[c] else "-" for c in cols]
                print(f"| {name} | {' | '.join(cells)} |")
            t = time.perf_counter()
            r = httpx.get(f"{base}/metrics/prometheus", headers=headers)
            print(f"\n/metrics/prometheus scrape: {(time.perf_counter() - t) * 1000:.1f} ms, {len(r.content)} bytes")
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=15)


if __name__ == "__main__":
    main()
