"""One call per read route on a large user: which routes stay fast at N memories.

Opens a data dir kept by ``bench/search_latency.py --keep`` in-process (Starlette TestClient, result
cache off), warms up with one search, then calls each route twice and prints the second call's time.
For finding routes whose SQL scales with the corpus, not for tail latency (see search_latency.py).

Usage::

    PYTHONPATH=. python bench/route_latency.py --keep DIR --n 100000 --model-dir DIR
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path
from typing import Any

from starlette.testclient import TestClient

from engram_core.settings import Settings
from engram_server.app import create_app

CALLS: list[tuple[str, str, Any]] = [
    ("POST", "/search", {"query": "zqput love garden"}),
    ("POST", "/search", {"query": "zqput love garden", "include_links": True}),
    ("POST", "/search/explain", {"query": "zqput love garden"}),
    ("POST", "/search/faceted", {"query": "garden"}),
    ("POST", "/tags/search", {"tags": ["x"]}),
    ("POST", "/recall", {"query": "garden plans"}),
    ("POST", "/context", {"query": "garden plans"}),
    ("POST", "/timetravel", {"query": "garden", "at": "2030-01-01T00:00:00Z"}),
    ("GET", "/list?limit=20", None),
    ("GET", "/stats", None),
    ("GET", "/tags", None),
    ("GET", "/personality/signals", None),
    ("GET", "/profile", None),
    ("GET", "/graph", None),
]


def run(keep: Path, n: int, model_dir: Path) -> None:
    key = json.loads((keep / f"data-{n}.json").read_text())["key"]
    settings = Settings.for_data_dir(
        keep / f"data-{n}", embedding_model_dir=model_dir, search_cache_size=0,
        rate_limit_per_minute=10**6, ip_rate_limit_per_minute=10**6,
    )  # fmt: skip
    headers = {"Authorization": f"Bearer {key}"}
    with TestClient(create_app(settings)) as client:
        client.post("/search", json={"query": "warm"}, headers=headers)
        for method, path, body in CALLS:
            for _ in range(2):
                t = time.perf_counter()
                r = client.request(method, path, json=body, headers=headers)
                ms = (time.perf_counter() - t) * 1000
            label = path + (" +links" if isinstance(body, dict) and body.get("include_links") else "")
            print(f"{method:4s} {label:32s} {r.status_code} {ms:8.1f} ms", flush=True)


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", required=True, type=Path)
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--model-dir", required=True, type=Path)
    args = parser.parse_args(argv)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    run(args.keep, args.n, args.model_dir)


if __name__ == "__main__":
    main(sys.argv[1:])
