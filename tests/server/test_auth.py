"""Keys, scopes, bootstrap, rotation, revocation, expiry, pepper, open access."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

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
    expired = api.call("POST", "/keys", rotated["key"], json={"scopes": ["read"], "expires_at": past}).json()["key"]
    r = api.call("GET", "/list", expired)
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
