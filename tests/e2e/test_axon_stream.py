"""axon over a live `engram serve`: an SSE client receives what another client publishes, reconnects
with Last-Event-ID (across a server restart too) and misses nothing; cursor polling hands each event out
once per cursor advance, restart or not; two users never see each other's events."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from engram_server.cli import GRACEFUL_SHUTDOWN_SECONDS
from tests.e2e.sse_client import read_events
from tests.e2e.support import admin_key, free_port, start_server

pytestmark = pytest.mark.slow


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    port = free_port()
    env = {**os.environ, "ENGRAM_DATA_DIR": str(tmp_path / "data"), "ENGRAM_PORT": str(port),
           "ENGRAM_AXON_HEARTBEAT_SECONDS": "0.3", "ENGRAM_LOG_LEVEL": "warning"}  # fmt: skip
    env.pop("ENGRAM_BOOTSTRAP_SECRET", None)
    return env


def _events(items: Iterator[dict[str, Any]], n: int, heartbeats: list[str] | None = None) -> list[dict[str, Any]]:
    got: list[dict[str, Any]] = []
    for item in items:
        if "comment" in item:
            if heartbeats is not None:
                heartbeats.append(item["comment"])
            continue
        got.append(item)
        if len(got) == n:
            break
    return got


def _serve(env: dict[str, str]) -> Iterator[None]:
    proc = start_server(env)
    try:
        yield
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def test_sse_receives_resumes_and_survives_a_restart(env: dict[str, str]) -> None:
    base = f"http://127.0.0.1:{env['ENGRAM_PORT']}"
    headers = {"Authorization": f"Bearer {admin_key(env)}"}
    server = _serve(env)
    next(server)
    publisher = httpx.Client(base_url=base, headers=headers, timeout=10)
    reader = httpx.Client(base_url=base, headers=headers, timeout=10)

    def publish(i: int, channel: str = "work") -> int:
        r = publisher.post("/axon/publish", json={"channel": channel, "action": "step.done", "payload": {"i": i}})
        assert r.status_code == 201, r.text
        return int(r.json()["id"])

    sent = []
    with reader.stream("GET", "/axon/stream", params={"channels": "work"}) as stream:
        assert stream.status_code == 200
        assert stream.headers["content-type"].startswith("text/event-stream")
        publish(0, channel="elsewhere")  # another channel: not on this stream
        sent += [publish(i) for i in range(3)]
        beats: list[str] = []
        first = _events(read_events(stream), 3, beats)
    assert [int(e["id"]) for e in first] == sent
    assert [e["data"]["payload"]["i"] for e in first] == [0, 1, 2]
    assert first[0]["event"] == "step.done" and first[0]["data"]["channel"] == "work"

    missed = [publish(i) for i in range(3, 6)]  # published while no stream is open
    with reader.stream("GET", "/axon/stream", params={"channels": "work"},
                       headers={"Last-Event-ID": first[-1]["id"]}) as stream:  # fmt: skip
        items = read_events(stream)
        replayed = _events(items, 3)
        live_ids = [publish(i) for i in range(6, 8)]
        live = _events(items, 2, beats)
    assert [int(e["id"]) for e in replayed] == missed
    assert [int(e["id"]) for e in live] == live_ids

    # A heartbeat comment arrives while nothing is published.
    with reader.stream("GET", "/axon/stream") as stream:
        beats = []
        for item in read_events(stream):
            if "comment" in item:
                beats.append(item["comment"])
                break
    assert beats == ["ping"]

    # Restart: the events are rows, so a resume after the restart still misses nothing.
    next(server, None)
    server = _serve(env)
    next(server)
    after_restart = [publish(i) for i in range(8, 10)]
    with reader.stream("GET", "/axon/stream", params={"channels": "work"},
                       headers={"Last-Event-ID": str(live_ids[-1])}) as stream:  # fmt: skip
        got = _events(read_events(stream), 2)
    assert [int(e["id"]) for e in got] == after_restart
    publisher.close()
    reader.close()
    next(server, None)


def test_poll_cursor_exactly_once_across_a_restart_and_users_apart(env: dict[str, str]) -> None:
    base = f"http://127.0.0.1:{env['ENGRAM_PORT']}"
    admin = {"Authorization": f"Bearer {admin_key(env)}"}
    server = _serve(env)
    next(server)
    with httpx.Client(base_url=base, timeout=10) as c:
        made = c.post("/users", headers=admin, json={"name": "bob", "scopes": ["read", "write"]})
        bob = {"Authorization": f"Bearer {made.json()['api_key']}"}
        ids = [c.post("/axon/publish", headers=admin, json={"channel": "jobs", "payload": {"n": i}}).json()["id"]
               for i in range(5)]  # fmt: skip
        c.post("/axon/publish", headers=bob, json={"channel": "jobs", "payload": {"n": "bob"}})
        first = c.post("/axon/poll", headers=admin, json={"agent": "w1", "channel": "jobs", "limit": 3}).json()
        assert [e["id"] for e in first["events"]] == ids[:3] and first["cursor"] == ids[2]
        bob_poll = c.post("/axon/poll", headers=bob, json={"agent": "w1", "channel": "jobs"}).json()
        assert [e["payload"] for e in bob_poll["events"]] == [{"n": "bob"}]
        assert c.get("/axon/events", headers=bob).json()["count"] == 1
        assert c.get(f"/axon/events/{ids[0]}", headers=bob).status_code == 404
        # Bob's stream replayed from the very start holds his one event, then only heartbeats.
        with c.stream("GET", "/axon/stream", headers={**bob, "Last-Event-ID": "0"}) as stream:
            seen = []
            for item in read_events(stream):
                if "comment" in item:
                    break
                seen.append(item["data"]["payload"])
        assert seen == [{"n": "bob"}]
    next(server, None)
    server = _serve(env)
    next(server)
    with httpx.Client(base_url=base, timeout=10) as c:
        rest = c.post("/axon/poll", headers=admin, json={"agent": "w1", "channel": "jobs"}).json()
        assert [e["id"] for e in rest["events"]] == ids[3:]
        assert c.post("/axon/poll", headers=admin, json={"agent": "w1", "channel": "jobs"}).json()["count"] == 0
        cur = c.get("/axon/cursor", headers=admin, params={"agent": "w1", "channel": "jobs"}).json()
        assert cur["last_event_id"] == ids[-1]
    next(server, None)


def test_a_slow_client_is_dropped_and_resumes_without_loss(env: dict[str, str]) -> None:
    env = {**env, "ENGRAM_AXON_STREAM_BUFFER": "4", "ENGRAM_AXON_SEND_TIMEOUT_SECONDS": "1",
           "ENGRAM_AXON_HEARTBEAT_SECONDS": "5"}  # fmt: skip
    base = f"http://127.0.0.1:{env['ENGRAM_PORT']}"
    headers = {"Authorization": f"Bearer {admin_key(env)}"}
    server = _serve(env)
    next(server)
    blob = "x" * 60_000  # big events fill the socket buffers of a client that does not read
    with httpx.Client(base_url=base, headers=headers, timeout=30) as c:
        ids: list[int] = []
        got: list[int] = []
        with c.stream("GET", "/axon/stream", params={"channels": "bulk"}) as stream:
            for i in range(400):
                ids.append(
                    c.post("/axon/publish", json={"channel": "bulk", "payload": {"i": i, "b": blob}}).json()["id"]
                )
            deadline = time.monotonic() + 60
            while c.get("/axon/stats").json()["sse_clients"] and time.monotonic() < deadline:
                time.sleep(0.1)
            assert c.get("/axon/stats").json()["sse_clients"] == 0  # dropped, not buffered without bound
            with contextlib.suppress(httpx.HTTPError):
                got += [int(e["id"]) for e in read_events(stream) if "id" in e]
        assert len(got) < len(ids)
        while len(got) < len(ids):  # resume from the last id received: nothing is lost
            last = {"Last-Event-ID": str(got[-1])} if got else {"Last-Event-ID": str(ids[0] - 1)}
            with c.stream("GET", "/axon/stream", params={"channels": "bulk"}, headers=last) as stream:
                for item in read_events(stream):
                    if "comment" in item:
                        break
                    got.append(int(item["id"]))
        assert got == ids
    next(server, None)


def test_a_stop_with_a_stream_still_open_ends_promptly(env: dict[str, str]) -> None:
    """SIGTERM while a client still holds an SSE stream open (a stream never ends by itself): the server stops
    within its graceful-shutdown bound, with uvicorn's exit for a handled SIGTERM (0, or the signal re-raised)."""
    base = f"http://127.0.0.1:{env['ENGRAM_PORT']}"
    proc = start_server(env)
    headers = {"Authorization": f"Bearer {admin_key(env)}"}
    try:
        with httpx.Client(base_url=base, headers=headers, timeout=30) as c, c.stream("GET", "/axon/stream") as stream:
            assert stream.status_code == 200
            next(read_events(stream))  # the stream is live (a heartbeat or an event)
            started = time.monotonic()
            proc.terminate()
            code = proc.wait(timeout=30)
            took = time.monotonic() - started
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert code in (0, -15) and took < GRACEFUL_SHUTDOWN_SECONDS + 10, (code, took)
