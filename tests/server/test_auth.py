"""Keys, scopes, bootstrap, rotation, revocation, expiry, pepper, open access."""

from __future__ import annotations

import hashlib
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from engram_core.settings import Settings
from engram_server.app import create_app
from tests.conftest import BOOTSTRAP_SECRET
from tests.helpers import Api


def test_bootstrap_is_one_shot(api: Api) -> None:
    r = api.client.post("/bootstrap", json={"secret": BOOTSTRAP_SECRET})
    assert r.status_code == 403 and "already been claimed" in r.json()["error"]


def test_bootstrap_wrong_secret_and_disabled(tmp_path: Path) -> None:
    settings = Settings.for_data_dir(tmp_path, bootstrap_secret="right")
    with TestClient(create_app(settings)) as client:
        r = client.post("/bootstrap", json={"secret": "wrong"})
        assert r.status_code == 401
        assert client.post("/bootstrap", json={}).json()["field"] == "secret"
        assert client.post("/bootstrap", json={"secret": "right"}).status_code == 201
    with TestClient(create_app(Settings.for_data_dir(tmp_path / "b"))) as client:
        r = client.post("/bootstrap", json={"secret": "anything"})
        assert r.status_code == 403 and "disabled" in r.json()["error"]


def test_key_format_and_hashing(api: Api) -> None:
    assert api.admin_key.startswith("engram_") and len(api.admin_key) == 7 + 32
    db = api.client.app.state.engram.db  # type: ignore[attr-defined]
    stored = db.read(lambda c: c.execute("SELECT prefix, key_hash FROM api_keys WHERE id = 1").fetchone())
    assert stored["prefix"] == api.admin_key[7:15]
    assert stored["key_hash"] == hashlib.sha256(api.admin_key.encode()).hexdigest()
    dump = db.read(lambda c: [tuple(r) for r in c.execute("SELECT * FROM api_keys")])
    assert api.admin_key not in repr(dump)


def test_pepper_changes_the_hash_and_still_authenticates(tmp_path: Path) -> None:
    settings = Settings.for_data_dir(tmp_path, bootstrap_secret="s", api_key_pepper="pepper!")
    with TestClient(create_app(settings)) as client:
        key = client.post("/bootstrap", json={"secret": "s"}).json()["key"]
        assert client.get("/keys", headers={"Authorization": f"Bearer {key}"}).status_code == 200
        db = client.app.state.engram.db  # type: ignore[attr-defined]
        stored = db.read(lambda c: c.execute("SELECT key_hash FROM api_keys").fetchone()[0])
        assert stored != hashlib.sha256(key.encode()).hexdigest()


def test_scopes_revoke_rotate_expire(api: Api) -> None:
    alice = api.user("alice")
    reader = api.key(alice, ("read",))
    assert api.call("GET", "/list", reader).status_code == 200
    assert api.call("POST", "/store", reader, json={"content": "x"}).status_code == 403
    assert api.call("POST", "/keys", alice, json={"scopes": ["admin"]}).status_code == 403
    assert api.call("POST", "/keys", alice, json={"scopes": ["root"]}).json()["field"] == "scopes"

    keys = api.call("GET", "/keys", alice).json()["keys"]
    reader_id = max(k["id"] for k in keys)
    assert api.call("DELETE", f"/keys/{reader_id}", alice).json()["revoked"]
    r = api.call("GET", "/list", reader)
    assert r.status_code == 401 and "revoked" in r.json()["error"]

    first_id = min(k["id"] for k in keys)
    rotated = api.call("POST", "/keys/rotate", alice, json={"key_id": first_id, "grace_hours": 1}).json()
    new_key = rotated["key"]
    assert api.call("GET", "/list", new_key).status_code == 200
    assert api.call("GET", "/list", alice).status_code == 200  # still inside the grace period
    rotated = api.call("POST", "/keys/rotate", new_key, json={"key_id": rotated["id"], "grace_hours": 0}).json()
    assert api.call("GET", "/list", new_key).status_code == 401  # zero grace: expired at once
    assert api.call("GET", "/list", rotated["key"]).status_code == 200

    past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    r = api.call("POST", "/keys", rotated["key"], json={"scopes": ["read"], "expires_at": past})
    assert r.status_code == 400 and r.json()["field"] == "expires_at"  # born expired: refused (issue 18 §4)
    soon = (datetime.now(UTC) + timedelta(minutes=1)).isoformat()
    made = api.call("POST", "/keys", rotated["key"], json={"scopes": ["read"], "expires_at": soon}).json()
    api.engram.db.write(lambda c: c.execute("UPDATE api_keys SET expires_at = ? WHERE id = ?", (past, made["id"])))
    r = api.call("GET", "/list", made["key"])
    assert r.status_code == 401 and "expired" in r.json()["error"]


def test_legacy_and_malformed_keys(api: Api) -> None:
    assert api.call("GET", "/list", "eg_" + "a" * 32).status_code == 401
    r = api.client.get("/list", headers={"Authorization": "Basic abc"})
    assert r.status_code == 401 and "Bearer" in r.json()["error"]
    r = api.client.get("/list", headers={"Authorization": "Bearer nonsense"})
    assert r.status_code == 401 and "malformed" in r.json()["error"]


def test_legacy_prefix_authenticates(api: Api) -> None:
    from engram_core.auth.keys import hash_key

    legacy = "eg_" + "ab12" * 8
    db = api.client.app.state.engram.db  # type: ignore[attr-defined]
    db.write(lambda c: c.execute(
        "INSERT INTO api_keys (user_id, prefix, key_hash, scopes, created_at) VALUES (1, ?, ?, 'read', 'x')",
        (legacy[3:11], hash_key(legacy)),
    ))  # fmt: skip
    assert api.call("GET", "/list", legacy).status_code == 200


def test_open_access_is_read_only(tmp_path: Path) -> None:
    settings = Settings.for_data_dir(tmp_path, bootstrap_secret="s", open_access=True)
    with TestClient(create_app(settings)) as client:
        key = client.post("/bootstrap", json={"secret": "s"}).json()["key"]
        client.post("/store", json={"content": "public fact"}, headers={"Authorization": f"Bearer {key}"})
        assert client.get("/list").json()["total"] == 1
        assert client.post("/store", json={"content": "nope"}).status_code == 403


def test_users_admin_routes(api: Api) -> None:
    r = api.call("POST", "/users", api.admin_key, json={"name": "carol", "email": "c@example.org"})
    assert r.status_code == 201 and r.json()["api_key"].startswith("engram_")
    assert api.call("POST", "/users", api.admin_key, json={"name": "carol"}).status_code == 409
    names = [u["name"] for u in api.call("GET", "/users", api.admin_key).json()["users"]]
    assert names == ["admin", "carol"]


def _last_used(api: Api, owner_key: str, key_id: int) -> str | None:
    api.client.app.state.engram.db.write(lambda c: None)  # type: ignore[attr-defined]  # the queued stamps ran
    keys = {k["id"]: k for k in api.call("GET", "/keys", owner_key).json()["keys"]}
    return keys[key_id]["last_used_at"]  # type: ignore[no-any-return]


def test_last_used_at_is_written_throttled(api: Api) -> None:
    usage = api.client.app.state.engram.auth.usage  # type: ignore[attr-defined]
    clock = [1000.0]
    usage.clock = lambda: clock[0]
    alice = api.user("alice")
    reader = api.key(alice, ("read",))
    reader_id = max(k["id"] for k in api.call("GET", "/keys", alice).json()["keys"])
    assert _last_used(api, alice, reader_id) is None  # made, never used

    assert api.call("GET", "/list", reader).status_code == 200
    first = _last_used(api, alice, reader_id)
    assert first is not None and datetime.fromisoformat(first) > datetime.now(UTC) - timedelta(minutes=1)

    clock[0] += 59.0
    assert api.call("GET", "/list", reader).status_code == 200
    assert _last_used(api, alice, reader_id) == first  # within the minute: no second write

    clock[0] += 1.0
    assert api.call("GET", "/list", reader).status_code == 200
    later = _last_used(api, alice, reader_id)
    assert later is not None and later > first
    assert api.call("DELETE", f"/keys/{reader_id}", alice).status_code == 200
    clock[0] += 61.0
    assert api.call("GET", "/list", reader).status_code == 401
    assert _last_used(api, alice, reader_id) == later  # a refused key stamps nothing


def test_last_used_at_failure_never_fails_the_request(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    db = api.client.app.state.engram.db  # type: ignore[attr-defined]
    alice = api.user("alice")
    db.write(lambda c: c.execute(
        "CREATE TRIGGER no_stamp BEFORE UPDATE OF last_used_at ON api_keys BEGIN SELECT RAISE(ABORT, 'boom'); END"
    ))  # fmt: skip
    with caplog.at_level(logging.ERROR, logger="engram.auth"):
        r = api.call("GET", "/list", alice)
        db.write(lambda c: None)
    assert r.status_code == 200
    assert any("last_used_at" in rec.getMessage() and "boom" in str(rec.exc_info) for rec in caplog.records)
    stamp = db.read(lambda c: c.execute("SELECT last_used_at FROM api_keys WHERE user_id = 2").fetchone()[0])
    assert stamp is None  # alice's stamp rolled back; the request was answered all the same
