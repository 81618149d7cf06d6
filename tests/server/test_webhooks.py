"""Webhooks through the API (TestClient): SSRF refusals, shapes, deletion, isolation, enqueue in the
event's transaction, and the signature helper."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from engram_core.services.webhooks import sign
from tests.helpers import Api


@pytest.mark.parametrize(
    "url",
    ["file:///etc/passwd", "ftp://example.com/x", "http://127.0.0.1:8080/x", "http://localhost/x",
     "http://10.1.2.3/x", "http://192.168.0.10/x", "http://169.254.169.254/latest/meta-data",
     "http://[::1]/x", "http://[::ffff:127.0.0.1]/x", "http://0.0.0.0/x", "http://metadata.google.internal/",
     "https://user:pw@example.com/x", "not a url"],
)  # fmt: skip
def test_private_and_non_http_targets_are_refused(api: Api, url: str) -> None:
    r = api.call("POST", "/webhooks", api.admin_key, json={"url": url})
    assert r.status_code == 400 and r.json()["field"] == "url", r.text
    assert api.table_counts()["webhooks"] == 0


def test_create_list_delete_and_isolation(api: Api) -> None:
    alice, bob = api.user("alice"), api.user("bob")
    r = api.call("POST", "/webhooks", alice, json={"url": "https://hooks.example.com/in", "events": ["memory.created"]})
    assert r.status_code == 201, r.text
    hook = r.json()
    assert hook["created"] is True and hook["events"] == ["memory.created"] and len(hook["secret"]) == 64
    listed = api.call("GET", "/webhooks", alice).json()
    assert listed["count"] == 1 and listed["webhooks"][0]["has_secret"] is True
    assert "secret" not in listed["webhooks"][0]
    assert api.call("GET", "/webhooks", bob).json()["count"] == 0
    assert api.call("DELETE", f"/webhooks/{hook['id']}", bob).status_code == 404
    assert api.call("POST", f"/webhooks/test/{hook['id']}", bob, json={}).status_code == 404
    assert api.call("GET", f"/webhooks/{hook['id']}/dead-letters", bob).status_code == 404
    assert api.call("DELETE", f"/webhooks/{hook['id']}", alice).json() == {"deleted": True, "id": hook["id"]}
    assert api.call("GET", "/webhooks", alice).json()["count"] == 0


def test_matching_events_queue_deliveries_in_their_transaction(api: Api) -> None:
    k = api.admin_key
    api.call("POST", "/webhooks", k, json={"url": "https://a.example.com/", "events": ["deploy.done"]})
    api.call("POST", "/webhooks", k, json={"url": "https://b.example.com/", "events": ["ops.*"]})
    api.call("POST", "/webhooks", k, json={"url": "https://c.example.com/"})  # default: every event
    api.call("POST", "/axon/publish", k, json={"channel": "ops", "action": "deploy.done"})
    api.call("POST", "/axon/publish", k, json={"channel": "misc", "action": "other"})

    def rows(conn: object) -> list[tuple[str, int]]:
        sql = "SELECT w.url, count(*) FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id GROUP BY w.url"
        return [tuple(r) for r in conn.execute(sql)]  # type: ignore[attr-defined]

    counts = dict(api.engram.db.read(rows))
    assert counts == {"https://a.example.com/": 1, "https://b.example.com/": 1, "https://c.example.com/": 2}


def test_signature_is_hmac_sha256_of_the_body() -> None:
    body = b'{"event":"x"}'
    assert sign("k", body) == "sha256=" + hmac.new(b"k", body, hashlib.sha256).hexdigest()
