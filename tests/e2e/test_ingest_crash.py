"""An ingest job on a real `engram serve` is SIGKILLed mid-way; the restarted server finishes it: every
message stored once (no duplicate, none lost), each with its original time. Then the CLI: `engram ingest`
(progress bar, summary), `engram export` and `engram import` into another user, over the same server."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests import ingest_files as files
from tests.e2e.support import admin_key, free_port, start_server
from tests.support.tiny_models import install_tiny_model

pytestmark = pytest.mark.slow
CONVERSATIONS, MESSAGES = 40, 30


def _wait(client: httpx.Client, job_id: int, until: Any, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(f"/jobs/{job_id}").json()
        if until(job):
            return dict(job)
        time.sleep(0.02)
    pytest.fail(f"job {job_id} never got there: {job}")


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "engram_core.cli", *args], env=env, capture_output=True, text=True,
                          timeout=120)  # fmt: skip


def test_sigkill_mid_ingest_then_restart_finishes_with_no_duplicate_and_no_loss(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "ENGRAM_DATA_DIR": str(tmp_path / "data"), "ENGRAM_PORT": str(port),
           "ENGRAM_LOG_LEVEL": "warning", "ENGRAM_INGEST_BATCH": "8",
           "ENGRAM_MODELS_DIR": str(tmp_path / "models")}  # fmt: skip
    env.pop("ENGRAM_BOOTSTRAP_SECRET", None)
    install_tiny_model(tmp_path / "models")
    key = admin_key(env)
    headers = {"Authorization": f"Bearer {key}"}
    base = f"http://127.0.0.1:{port}"
    export = files.chatgpt(CONVERSATIONS, MESSAGES)
    proc = start_server(env)
    try:
        with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
            r = client.post("/ingest", files={"file": ("conversations.json", export)})
            assert r.status_code == 202, r.text
            job_id = r.json()["job_id"]
            found = r.json()["found"]
            assert found == CONVERSATIONS * MESSAGES
            job = _wait(client, job_id, lambda j: j["ingest"]["processed"] >= 16)
            assert job["status"] == "running" and job["ingest"]["processed"] < found, job
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=15)
        proc = start_server(env)
        with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
            job = _wait(client, job_id, lambda j: j["status"] in ("done", "failed"))
            assert job["status"] == "done" and job["ingest"]["stored"] == found, job
            rows = client.get("/list", params={"limit": 500, "category": "conversation"}).json()
            assert rows["total"] == found
            seen: dict[str, str] = {}
            offset = 0
            while offset < found:
                page = client.get("/list", params={"limit": 500, "offset": offset}).json()["results"]
                for m in page:
                    assert m["content"] not in seen, m["content"]  # never stored twice
                    seen[m["content"]] = m["created_at"]
                offset += len(page)
            for c in range(CONVERSATIONS):
                for m in range(MESSAGES):
                    role = "user" if m % 2 == 0 else "assistant"
                    topic = f"topic {c * 1000 + m} about sailing route number {m * 7 + c}"
                    text = f"{role}: conversation {c} message {m}: {topic}"
                    assert text in seen, text  # none lost

        # The CLI over the same live server: ingest a folder with a progress bar, export, import into bob.
        cli_env = {**env, "ENGRAM_URL": base, "ENGRAM_API_KEY": key}
        folder = tmp_path / "notes"
        (folder / "sub").mkdir(parents=True)
        (folder / "handbook.md").write_text(files.MARKDOWN)
        (folder / "sub" / "page.html").write_text(files.HTML)
        done = _cli(cli_env, "ingest", str(folder))
        assert done.returncode == 0, done.stderr
        assert "handbook.md: done (markdown)" in done.stdout and "page.html: done (html)" in done.stdout
        out = tmp_path / "export.ndjson"
        assert _cli(cli_env, "export", "-o", str(out)).returncode == 0
        lines = out.read_text().splitlines()
        assert json.loads(lines[0])["type"] == "header" and json.loads(lines[-1])["type"] == "end"
        with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
            bob = client.post("/users", json={"name": "bob", "scopes": ["read", "write"]}).json()["api_key"]
        imported = _cli({**cli_env, "ENGRAM_API_KEY": bob}, "import", str(out), "--json")
        assert imported.returncode == 0, imported.stderr
        assert json.loads(imported.stdout)["imported"]["memory"] == sum(
            1 for x in lines if json.loads(x)["type"] == "memory"
        )
    finally:
        proc.terminate()
        proc.wait(timeout=15)
