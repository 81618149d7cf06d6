"""Facts and contradictions over a live `engram serve` (real HTTP, real SQLite, the tiny ONNX model).

Paris -> Lyon -> Berlin: two contradictions, the current fact is Berlin, nothing deleted, and time travel to
before the first move says Paris. A multi-statement memory is decomposed and its facts are found by search.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import httpx

from tests.e2e.support import admin_key, free_port, start_server
from tests.support.tiny_models import install_tiny_model


def _settle(c: httpx.Client) -> None:
    deadline = time.monotonic() + 120  # generous: a loaded machine runs the jobs late
    while time.monotonic() < deadline:
        busy = [j for s in ("queued", "running") for j in c.get("/jobs", params={"status": s}).json()["jobs"]]
        if not busy:
            return
        time.sleep(0.05)
    raise AssertionError("jobs did not finish")


def test_paris_lyon_berlin_and_decomposition_live(tmp_path: Path) -> None:
    data = tmp_path / "data"
    install_tiny_model(data / "models")
    env = {**os.environ, "ENGRAM_DATA_DIR": str(data), "ENGRAM_PORT": str(free_port())}
    env.pop("ENGRAM_BOOTSTRAP_SECRET", None)
    headers = {"Authorization": f"Bearer {admin_key(env)}"}
    proc = start_server(env)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{env['ENGRAM_PORT']}", headers=headers, timeout=60) as c:
            ids = []
            for text, at in (("I live in Paris.", "2024-01-10T09:00:00Z"), ("I moved to Lyon.", "2024-06-01T09:00:00Z"),
                             ("I moved to Berlin.", "2025-02-01T09:00:00Z")):  # fmt: skip
                r = c.post("/store", json={"content": text, "created_at": at})
                assert r.status_code == 201, r.text
                ids.append(r.json()["id"])
            paris, lyon, berlin = ids
            _settle(c)

            found = c.get("/contradictions").json()["contradictions"]
            assert {(x["memory_a"], x["memory_b"]) for x in found} == {(lyon, paris), (berlin, lyon)}
            current = c.get("/facts", params={"subject": "user", "predicate": "lives_in"}).json()["facts"]
            assert [(f["object"], f["memory_id"]) for f in current] == [("Berlin", berlin)]
            assert all(c.get(f"/memory/{i}").status_code == 200 for i in ids)  # nothing deleted
            assert c.get("/list").json()["total"] == 3
            before = c.get("/facts", params={"predicate": "lives_in", "as_of": "2024-03-01T00:00:00Z"}).json()
            assert [f["object"] for f in before["facts"]] == ["Paris"]
            travel = c.post("/timetravel", json={"query": "where do I live", "at": "2024-03-01T00:00:00Z"}).json()
            assert [r["id"] for r in travel["results"]] == [paris]
            assert c.get("/profile").json()["facts"]["lives_in"] == "Berlin"

            r = c.post("/store", json={"content": "Hi! I adopted a greyhound named Comet last spring. "
                                                  "My sister teaches violin in Oslo. Thanks!"})  # fmt: skip
            parent = r.json()["id"]
            _settle(c)
            children = c.post(f"/intelligence/decompose/{parent}").json()["child_ids"]
            assert len(children) == 2
            hits = c.post("/search", json={"query": "violin lessons in Oslo"}).json()["results"]
            assert hits[0]["id"] in children and hits[0]["fact_of"] == parent
            assert parent not in [h["id"] for h in hits]
            assert c.get(f"/memory/{parent}").json()["content"].startswith("Hi! I adopted")  # parent intact
    finally:
        proc.terminate()
        proc.wait(timeout=15)
