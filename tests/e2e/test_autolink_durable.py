"""A store acknowledged just before SIGKILL still gets its auto-link job after restart (durable queue)."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import httpx

from tests.e2e.support import admin_key, free_port, start_server
from tests.support.tiny_models import install_tiny_model


def _vec(*hot: tuple[int, float]) -> list[float]:
    v = [0.0] * 32
    for i, x in hot:
        v[i] = x
    return v


def test_autolink_job_survives_sigkill(tmp_path: Path) -> None:
    data = tmp_path / "data"
    install_tiny_model(data / "models")
    env = {**os.environ, "ENGRAM_DATA_DIR": str(data), "ENGRAM_PORT": str(free_port())}
    env.pop("ENGRAM_BOOTSTRAP_SECRET", None)
    h = {"Authorization": f"Bearer {admin_key(env)}"}
    base = f"http://127.0.0.1:{env['ENGRAM_PORT']}"

    proc = start_server({**env, "ENGRAM_JOBS_START_DELAY": "600"})  # the worker will not get to the job
    try:
        with httpx.Client(base_url=base, headers=h, timeout=10) as c:
            a = c.post("/store", json={"content": "Our cat Miso sleeps all day", "embedding": _vec((0, 1.0))})
            b = c.post("/store", json={"content": "Miso the cat loves tuna", "embedding": _vec((0, 1.0), (1, 0.3))})
            assert a.status_code == 201 and b.status_code == 201
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=15)
    a_id, b_id = a.json()["id"], b.json()["id"]

    proc = start_server(env)
    try:
        with httpx.Client(base_url=base, headers=h, timeout=10) as c:
            deadline = time.monotonic() + 60
            links: list[dict[str, object]] = []
            while time.monotonic() < deadline and not links:
                links = c.get(f"/links/{b_id}").json()["outgoing"]
                time.sleep(0.1)
            assert [(x["target_id"], x["link_type"]) for x in links] == [(a_id, "similarity")]
            jobs = c.get("/jobs", params={"status": "done"}).json()["jobs"]
            assert sorted(j["payload"]["memory_id"] for j in jobs if j["kind"] == "autolink") == [a_id, b_id]
    finally:
        proc.terminate()
        proc.wait(timeout=15)
