"""Webhooks over a live `engram serve` and a real receiver on loopback: signed deliveries, retries with
backoff (the receiver fails the first two and takes the third), dead letters after the last attempt,
and deliveries still pending when the server stops are sent after it restarts."""

from __future__ import annotations

import hashlib
import hmac
import os
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.e2e.receiver import Received, Receiver
from tests.e2e.support import admin_key, free_port, start_server

pytestmark = pytest.mark.slow
SECRET = "receiver-shared-secret"


def _wait(check: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError("timed out")


def _verified(req: Received) -> bool:
    expected = "sha256=" + hmac.new(SECRET.encode(), req.body, hashlib.sha256).hexdigest()
    fresh = abs(int(req.headers["x-engram-timestamp"]) - time.time()) < 60
    return hmac.compare_digest(expected, req.headers["x-engram-signature"]) and fresh and \
        req.json["timestamp"] == int(req.headers["x-engram-timestamp"])  # fmt: skip


def test_retries_dead_letters_and_a_restart_lose_nothing(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "ENGRAM_DATA_DIR": str(tmp_path / "data"), "ENGRAM_PORT": str(port),
           "ENGRAM_WEBHOOK_ALLOW_PRIVATE": "true", "ENGRAM_WEBHOOK_RETRY_BASE_SECONDS": "0.2",
           "ENGRAM_WEBHOOK_MAX_ATTEMPTS": "4", "ENGRAM_LOG_LEVEL": "warning"}  # fmt: skip
    env.pop("ENGRAM_BOOTSTRAP_SECRET", None)
    key = admin_key(env)
    accepting = {"/later": False}

    def policy(req: Received, nth: int) -> int:
        if req.path == "/flaky":
            return 500 if nth <= 2 else 200
        if req.path == "/later":
            return 200 if accepting["/later"] else 503
        return 500 if req.path == "/broken" else 200

    receiver = Receiver(policy)
    proc = start_server(env)
    c = httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {key}"}, timeout=10)
    try:
        hook = c.post("/webhooks", json={"url": receiver.url + "/flaky", "events": ["deploy.done"], "secret": SECRET})
        assert hook.status_code == 201, hook.text
        broken = c.post("/webhooks", json={"url": receiver.url + "/broken", "events": ["deploy.failed"],
                                           "secret": SECRET}).json()  # fmt: skip
        event = c.post("/axon/publish", json={"channel": "ops", "action": "deploy.done", "payload": {"v": 7}}).json()
        c.post("/axon/publish", json={"channel": "ops", "action": "other.thing"})  # matches no hook
        _wait(lambda: len(receiver.on("/flaky")) >= 3)
        got = receiver.on("/flaky")
        assert len(got) == 3 and all(_verified(r) for r in got)
        assert {r.headers["x-engram-delivery"] for r in got} == {str(got[0].json["id"])}  # one delivery, 3 tries
        assert got[-1].json["event"] == "deploy.done" and got[-1].json["data"]["id"] == event["id"]
        assert got[-1].json["data"]["payload"] == {"v": 7}
        tampered = Received("/", {**got[0].headers}, got[0].body.replace(b'"v":7', b'"v":8'))
        assert not _verified(tampered)

        c.post("/axon/publish", json={"channel": "ops", "action": "deploy.failed"})
        _wait(lambda: c.get(f"/webhooks/{broken['id']}/dead-letters").json()["count"] == 1)
        letter = c.get(f"/webhooks/{broken['id']}/dead-letters").json()["dead_letters"][0]
        assert letter["attempts"] == 4 and letter["last_status_code"] == 500 and letter["event"] == "deploy.failed"
        assert len(receiver.on("/broken")) == 4
        listed = {h["id"]: h for h in c.get("/webhooks").json()["webhooks"]}
        assert listed[broken["id"]]["dead_letters"] == 1 and listed[hook.json()["id"]]["failure_count"] == 0

        test = c.post(f"/webhooks/test/{hook.json()['id']}", json={"event": "ping"}).json()
        assert test["dispatched"] is True and test["status_code"] == 200

        # Deliveries pending when the server stops are sent after it restarts.
        c.post("/webhooks", json={"url": receiver.url + "/later", "events": ["note.*", "batch.item"], "secret": SECRET})
        ids = [c.post("/axon/publish", json={"channel": "b", "action": "batch.item", "payload": {"n": i}}).json()["id"]
               for i in range(3)]  # fmt: skip
        _wait(lambda: len(receiver.on("/later")) >= 3)  # each failed once at least
        proc.terminate()
        proc.wait(timeout=15)
        accepting["/later"] = True
        proc = start_server(env)
        _wait(lambda: {r.json["data"]["id"] for r in receiver.on("/later") if r.status == 200} == set(ids))
        assert all(_verified(r) for r in receiver.on("/later"))
    finally:
        c.close()
        proc.terminate()
        proc.wait(timeout=15)
        receiver.close()
