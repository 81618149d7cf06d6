"""End to end: `engram serve` on a free loopback port, spoken to over real HTTP."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _engram(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "engram_core.cli", *args], env=env, capture_output=True,
                          text=True, timeout=60)  # fmt: skip


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    port = _free_port()
    env = {**os.environ, "ENGRAM_DATA_DIR": str(tmp_path / "data"), "ENGRAM_PORT": str(port)}
    env.pop("ENGRAM_BOOTSTRAP_SECRET", None)
    # The documented first-run path: a local admin key made against the data dir.
    made = _engram("keys", "create", "--admin", env=env)
    assert made.returncode == 0, made.stderr
    key = made.stdout.strip().splitlines()[-1]
    proc = subprocess.Popen([sys.executable, "-m", "engram_core.cli", "serve"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(base + "/health/ready", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                out = proc.stdout.read().decode() if proc.stdout else ""
                pytest.fail(f"engram serve did not come up: {out}")
            time.sleep(0.1)
        yield base, {"Authorization": f"Bearer {key}"}
    finally:
        proc.terminate()
        proc.wait(timeout=15)
        if proc.stdout:
            proc.stdout.close()


def test_store_get_search_update_delete_over_http(server: tuple[str, dict[str, str]]) -> None:
    base, h = server
    with httpx.Client(base_url=base, headers=h, timeout=10) as c:
        r = c.post("/store", json={"content": "The release train leaves every second Thursday", "tags": ["ops"]})
        assert r.status_code == 201
        mid = r.json()["id"]
        assert c.get(f"/memory/{mid}").json()["content"].startswith("The release train")
        hits = c.post("/search", json={"query": "when does the release train leave"}).json()["results"]
        assert hits[0]["id"] == mid and hits[0]["search_type"] == "fts"
        up = c.post(f"/memory/{mid}/update", json={"content": "The release train leaves every Thursday"}).json()
        assert up["version"] == 2
        assert c.delete(f"/memory/{up['new_id']}").json() == {"deleted": True, "id": up["new_id"]}
        assert c.post("/search", json={"query": "release train"}).json()["results"] == []
        assert c.get("/list").json()["total"] == 0
        assert httpx.get(base + "/list").status_code == 401
        assert c.post("/store", content=b"{", headers={"Content-Type": "application/json"}).status_code == 400


def test_keys_cli_lists_without_secrets(tmp_path: Path) -> None:
    env = {**os.environ, "ENGRAM_DATA_DIR": str(tmp_path)}
    key = _engram("keys", "create", "--admin", env=env).stdout.strip().splitlines()[-1]
    listed = _engram("keys", "list", env=env)
    assert listed.returncode == 0 and "admin" in listed.stdout and key not in listed.stdout
