"""End to end: `engram serve` on a free loopback port, spoken to over real HTTP."""

from __future__ import annotations

import contextlib
import http.client
import os
import socket
import time
from pathlib import Path

import httpx

from engram_server.cli import KEEP_ALIVE_SECONDS
from tests.e2e.support import engram


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
    key = engram("keys", "create", "--admin", env=env).stdout.strip().splitlines()[-1]
    listed = engram("keys", "list", env=env)
    assert listed.returncode == 0 and "admin" in listed.stdout and key not in listed.stdout


def test_an_idle_connection_outlasts_a_client_pools_expiry(server: tuple[str, dict[str, str]]) -> None:
    """The server keeps an idle connection longer than httpx's 5 s pool expiry, so a client never reuses one
    the server is closing at that moment (the 64-client ReadErrors); uvicorn's own default closed it at 5 s.
    http.client reads each response whole (a bare recv could stop between the headers and the body)."""
    assert KEEP_ALIVE_SECONDS > 15
    host, port = server[0].removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        conn.request("GET", "/health")
        first = conn.getresponse()
        assert first.status == 200 and first.read()
        sock = conn.sock
        assert sock is not None
        time.sleep(6.0)
        sock.setblocking(False)
        with contextlib.suppress(BlockingIOError):  # raised: open, nothing to read, still kept alive
            assert sock.recv(1, socket.MSG_PEEK) != b"", "the server closed the idle connection"
        sock.settimeout(10)
        conn.request("GET", "/health")
        second = conn.getresponse()
        assert second.status == 200 and second.read() and conn.sock is sock  # the same connection, reused
    finally:
        conn.close()
