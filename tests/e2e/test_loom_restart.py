"""A workflow run survives a restart of `engram serve`: the state is in the rows, so after the restart
the ready step is still running, its callback advances the run, and step timeouts are still checked."""

from __future__ import annotations

import os
import time
from pathlib import Path

import httpx
import pytest

from tests.e2e.support import admin_key, free_port, start_server

pytestmark = pytest.mark.slow


def test_a_run_carries_on_after_a_restart(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "ENGRAM_DATA_DIR": str(tmp_path / "data"), "ENGRAM_PORT": str(port),
           "ENGRAM_SERVICES_TICK_SECONDS": "0.2", "ENGRAM_LOG_LEVEL": "warning"}  # fmt: skip
    env.pop("ENGRAM_BOOTSTRAP_SECRET", None)
    headers = {"Authorization": f"Bearer {admin_key(env)}"}
    base = f"http://127.0.0.1:{port}"
    flow = {"name": "etl", "steps": [
        {"name": "extract", "type": "action"},
        {"name": "load", "type": "action", "depends_on": ["extract"]},
        {"name": "watch", "type": "wait", "depends_on": ["load"], "timeout_ms": 1000, "max_retries": 0},
    ]}  # fmt: skip
    proc = start_server(env)
    try:
        with httpx.Client(base_url=base, headers=headers, timeout=10) as c:
            c.post("/loom/workflows", json=flow).raise_for_status()
            run = c.post("/loom/runs", json={"workflow_name": "etl", "input": {"day": "mon"}}).json()
            steps = {s["name"]: s for s in run["steps"]}
            c.post(f"/loom/steps/{steps['extract']['id']}/complete", json={"output": {"rows": 10}}).raise_for_status()
        proc.terminate()
        proc.wait(timeout=15)
        proc = start_server(env)
        with httpx.Client(base_url=base, headers=headers, timeout=10) as c:
            after = {s["name"]: s for s in c.get(f"/loom/runs/{run['id']}").json()["steps"]}
            assert after["extract"]["status"] == "completed" and after["load"]["status"] == "running"
            assert after["load"]["input"] == {"day": "mon", "rows": 10}
            c.post(f"/loom/steps/{after['load']['id']}/complete", json={"output": {"loaded": 10}}).raise_for_status()
            # "watch" starts now; the restarted server's periodic check times it out (and so the run).
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                final = c.get(f"/loom/runs/{run['id']}").json()
                if final["status"] != "running":
                    break
                time.sleep(0.1)
            assert final["status"] == "failed" and "timed out" in final["error"]
            assert {s["name"]: s["status"] for s in final["steps"]} == {
                "extract": "completed", "load": "completed", "watch": "failed"}  # fmt: skip
    finally:
        proc.terminate()
        proc.wait(timeout=15)
