"""Store pipeline stage timings and failed job attempts in /metrics/prometheus (parsed with
prometheus_client.parser): a histogram per store stage, a counter per job kind and final-or-retry."""

from __future__ import annotations

import time
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from engram_core.jobs.queue import enqueue
from tests.helpers import Api


def _scrape(api: Api) -> dict[str, Any]:
    r = api.call("GET", "/metrics/prometheus", api.admin_key)
    assert r.status_code == 200, r.text
    return {f.name: f for f in text_string_to_metric_families(r.text)}


def _counts(family: Any, label: str) -> dict[str, float]:
    return {s.labels[label]: s.value for s in family.samples if s.name.endswith("_count")}


def test_store_stage_histograms_count_each_store(api: Api) -> None:
    before = _counts(_scrape(api)["engram_store_stage_seconds"], "stage")
    assert before == {}  # nothing stored yet: no stage observed
    for text in ("the heron fishes at dawn", "the kettle whistles at seven", "the tram is late on Sundays"):
        api.store(api.admin_key, text)
    dup = api.call("POST", "/store", api.admin_key, json={"content": "the heron fishes at dawn"})
    assert dup.json()["duplicate"] is True  # a near-duplicate still runs the pipeline
    counts = _counts(_scrape(api)["engram_store_stage_seconds"], "stage")
    assert {"validate", "prepare", "write", "total"} <= set(counts)
    assert counts["total"] == counts["write"] == counts["validate"] == 4
    samples = _scrape(api)["engram_store_stage_seconds"].samples
    sums = {s.labels["stage"]: s.value for s in samples if s.name.endswith("_sum")}
    assert sums["total"] >= sums["write"] > 0
    bad = api.call("POST", "/store", api.admin_key, json={"content": ""})
    assert bad.status_code == 400
    assert _counts(_scrape(api)["engram_store_stage_seconds"], "stage")["total"] == 4  # refused: not timed


def test_failed_job_attempts_are_counted_per_kind(api: Api) -> None:
    def add(conn: Any) -> tuple[int, int]:
        retrying = enqueue(conn, "no-such-kind", {})
        last = enqueue(conn, "also-unknown", {})
        conn.execute("UPDATE jobs SET attempts = 4 WHERE id = ?", (last,))  # its fifth attempt is the last
        return retrying, last

    assert api.client.portal is not None
    retrying, last = api.client.portal.call(api.engram.db.awrite, add)
    api.engram.jobs.wake()
    deadline = time.monotonic() + 20
    failures: dict[tuple[str, str], float] = {}
    while time.monotonic() < deadline:
        fam = _scrape(api)["engram_job_failures"]
        failures = {(s.labels["kind"], s.labels["final"]): s.value for s in fam.samples if s.name.endswith("_total")}
        if len(failures) == 2:
            break
        time.sleep(0.05)
    assert failures == {("no-such-kind", "false"): 1, ("also-unknown", "true"): 1}
    assert api.call("GET", f"/jobs/{last}", api.admin_key).json()["status"] == "failed"
    assert api.call("GET", f"/jobs/{retrying}", api.admin_key).json()["status"] == "queued"
