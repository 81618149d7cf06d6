"""Dashboard first paint: a live `engram serve` holding N memories (no model), headless Debian chromium via
Playwright; prints the time from navigation to the memory list rendered (median of a few loads) and the
time of one /metrics/prometheus scrape.

    .venv/bin/python bench/ui_bench.py --memories 10000
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.e2e.support import admin_key, free_port, start_server  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--memories", type=int, default=10000)
    parser.add_argument("--loads", type=int, default=5)
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
            with httpx.Client(headers=headers, timeout=60) as client, ThreadPoolExecutor(16) as pool:
                words = ["otter", "granite", "violin", "harbour", "lantern", "meadow", "copper", "tundra"]

                def store(i: int) -> None:
                    text = f"memory {i}: {words[i % 8]} {words[(i * 3) % 8]} {i * 7919 % 10007}"
                    client.post(f"{base}/store", json={"content": text, "tags": [words[i % 8]]}).raise_for_status()

                list(pool.map(store, range(args.memories)))
            print(f"stored {args.memories} memories in {time.perf_counter() - t:.1f} s")
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=shutil.which("chromium"), args=["--no-sandbox"])
                context = browser.new_context()
                context.add_init_script(f"sessionStorage.setItem('engram.key', {key!r})")
                times = []
                for _ in range(args.loads):
                    page = context.new_page()
                    page.goto(f"{base}/ui#memories")
                    page.wait_for_selector("#memory-list tbody tr")
                    times.append(page.evaluate("performance.now()"))
                    page.close()
                browser.close()
            print(f"first paint of the memory list: median {statistics.median(times):.0f} ms, max {max(times):.0f} ms")
            t = time.perf_counter()
            r = httpx.get(f"{base}/metrics/prometheus", headers=headers)
            print(f"/metrics/prometheus scrape: {(time.perf_counter() - t) * 1000:.1f} ms, {len(r.content)} bytes")
        finally:
            proc.terminate()
            proc.wait(timeout=15)


if __name__ == "__main__":
    main()
