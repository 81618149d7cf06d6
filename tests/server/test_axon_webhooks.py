"""axon subscriptions with a ``webhook_url``: the channel's events are POSTed to a real receiver on loopback
through the webhook queue (signed, retried after failures, dead-lettered), filtered by ``filter_type``,
kept per user, and gone with the subscription."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from engram_core.settings import Settings
from tests.conftest import BOOTSTRAP_SECRET
from tests.e2e.receiver import Received, Receiver
from tests.helpers import Api

SECRET = "subscriber-secret"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings.for_data_dir(tmp_path / "data", bootstrap_secret=BOOTSTRAP_SECRET, ttl_sweep_seconds=3600.0,
                                 webhook_allow_private=True, webhook_retry_base_seconds=0.05,
                                 webhook_max_attempts=3)  # fmt: skip


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    rec = Receiver(lambda req, nth: 500 if req.path in {"/flaky", "/down"} and (nth <= 2 or req.path == "/down")
                   else 200)  # fmt: skip
    yield rec
    rec.close()


def _wait(check: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.02)
    raise AssertionError("timed out")


def _signed(req: Received, secret: str) -> bool:
    expected = "sha256=" + hmac.new(secret.encode(), req.body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, req.headers["x-engram-signature"])


def test_subscribed_channel_events_are_posted_signed_and_retried(api: Api, receiver: Receiver) -> None:
    alice = api.user("alice")
    sub = api.call("POST", "/axon/subscribe", alice, json={"agent": "deployer", "channel": "ops",
                   "filter_type": "deploy.*", "webhook_url": receiver.url + "/flaky", "secret": SECRET})  # fmt: skip
    assert sub.status_code == 201, sub.text
    assert sub.json()["webhook_id"] and sub.json()["secret"] == SECRET
    done = api.call("POST", "/axon/publish", alice, json={"channel": "ops", "action": "deploy.done",
                                                          "payload": {"v": 7}}).json()  # fmt: skip
    api.call("POST", "/axon/publish", alice, json={"channel": "ops", "action": "build.done"})  # filtered out
    api.call("POST", "/axon/publish", alice, json={"channel": "misc", "action": "deploy.done"})  # other channel
    _wait(lambda: len(receiver.on("/flaky")) >= 3)
    api.client.portal.call(api.engram.services.webhooks.drain)
    got = receiver.on("/flaky")
    assert [r.status for r in got] == [500, 500, 200] and all(_signed(r, SECRET) for r in got)
    assert {r.headers["x-engram-delivery"] for r in got} == {str(got[0].json["id"])}  # one delivery, 3 tries
    assert got[-1].json["event"] == "deploy.done" and got[-1].json["data"]["id"] == done["id"]
    assert got[-1].json["data"]["payload"] == {"v": 7} and got[-1].json["data"]["channel"] == "ops"

    hooks = api.call("GET", "/webhooks", alice).json()["webhooks"]
    assert [(h["id"], h["subscription_id"], h["failure_count"]) for h in hooks] == [
        (sub.json()["webhook_id"], sub.json()["id"], 0)
    ]
    subs = api.call("GET", "/axon/subscriptions", alice, params={"agent": "deployer"}).json()["subscriptions"]
    assert subs[0]["webhook_id"] == sub.json()["webhook_id"] and "secret" not in subs[0]


def test_a_generated_secret_dead_letters_and_unsubscribe(api: Api, receiver: Receiver) -> None:
    k = api.admin_key
    sub = api.call("POST", "/axon/subscribe", k, json={"channel": "alerts", "webhook_url": receiver.url + "/down"})
    secret = sub.json()["secret"]
    assert sub.status_code == 201 and len(secret) == 64
    again = api.call("POST", "/axon/subscribe", k, json={"channel": "alerts", "webhook_url": receiver.url + "/ok"})
    assert again.json()["webhook_id"] == sub.json()["webhook_id"] and "secret" not in again.json()  # kept
    api.call("POST", "/axon/subscribe", k, json={"channel": "alerts", "webhook_url": receiver.url + "/down"})
    api.call("POST", "/axon/publish", k, json={"channel": "alerts", "action": "disk.full"})
    hook = sub.json()["webhook_id"]
    _wait(lambda: api.call("GET", f"/webhooks/{hook}/dead-letters", k).json()["count"] == 1)
    assert len(receiver.on("/down")) == 3 and all(_signed(r, secret) for r in receiver.on("/down"))

    gone = api.call("DELETE", "/axon/subscribe", k, json={"agent": "default", "channel": "alerts"}).json()
    assert gone["deleted"] is True
    assert api.call("GET", "/webhooks", k).json()["count"] == 0 and api.table_counts()["webhook_deliveries"] == 0
    api.call("POST", "/axon/publish", k, json={"channel": "alerts", "action": "disk.full"})
    assert api.table_counts()["webhook_deliveries"] == 0

    # Without a URL the subscription keeps no hook; deleting the hook leaves the subscription without its URL.
    s = api.call("POST", "/axon/subscribe", k, json={"channel": "c", "webhook_url": receiver.url + "/ok"}).json()
    assert api.call("POST", "/axon/subscribe", k, json={"channel": "c"}).json()["webhook_id"] is None
    assert api.call("GET", "/webhooks", k).json()["count"] == 0
    s = api.call("POST", "/axon/subscribe", k, json={"channel": "c", "webhook_url": receiver.url + "/ok"}).json()
    assert api.call("DELETE", f"/webhooks/{s['webhook_id']}", k).json()["deleted"] is True
    listed = api.call("GET", "/axon/subscriptions", k).json()["subscriptions"]
    assert [(x["channel"], x["webhook_url"], x["webhook_id"]) for x in listed] == [("c", None, None)]


def test_another_users_events_never_reach_a_subscription(api: Api, receiver: Receiver) -> None:
    alice, bob = api.user("alice"), api.user("bob")
    api.call("POST", "/axon/subscribe", alice, json={"channel": "ops", "webhook_url": receiver.url + "/alice"})
    api.call("POST", "/axon/publish", bob, json={"channel": "ops", "action": "deploy.done", "payload": {"b": 1}})
    mine = api.call("POST", "/axon/publish", alice, json={"channel": "ops", "action": "deploy.done"}).json()
    _wait(lambda: len(receiver.on("/alice")) >= 1)
    api.client.portal.call(api.engram.services.webhooks.drain)
    assert [r.json["data"]["id"] for r in receiver.on("/alice")] == [mine["id"]]
    assert api.call("GET", "/axon/subscriptions", bob).json()["count"] == 0
    assert api.call("GET", "/webhooks", bob).json()["count"] == 0


def test_bad_subscription_input_names_the_field(api: Api) -> None:
    k = api.admin_key
    r = api.call("POST", "/axon/subscribe", k, json={"channel": "c", "secret": "s"})
    assert r.status_code == 400 and r.json()["field"] == "secret" and r.json()["error"], r.text
    r = api.call("POST", "/axon/subscribe", k, json={"channel": "c", "webhook_url": "file:///etc/passwd"})
    assert r.status_code == 400 and r.json()["field"] == "webhook_url"
    r = api.call("POST", "/axon/subscribe", k, json={"channel": "c", "webhook_url": "https://x.example/", "secret": 5})
    assert r.status_code == 400 and r.json()["field"] == "secret"
    assert api.table_counts()["axon_subscriptions"] == 0 and api.table_counts()["webhooks"] == 0


def test_loopback_subscription_urls_are_refused_unless_allowed(tmp_path: Path) -> None:
    from starlette.testclient import TestClient

    from engram_server.app import create_app

    settings = Settings.for_data_dir(tmp_path / "strict", bootstrap_secret=BOOTSTRAP_SECRET, ttl_sweep_seconds=3600.0)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        key = client.post("/bootstrap", json={"secret": BOOTSTRAP_SECRET}).json()["key"]
        api = Api(client, key)
        for url in ("http://127.0.0.1:9/x", "http://localhost/x", "http://[::1]/x", "http://169.254.169.254/"):
            r = api.call("POST", "/axon/subscribe", key, json={"channel": "c", "webhook_url": url})
            assert r.status_code == 400 and r.json()["field"] == "webhook_url", (url, r.text)
