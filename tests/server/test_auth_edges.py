"""Issue 18 §4: scopes are validated for admin users too, a key cannot be born expired, and the last
active admin key cannot be revoked."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from engram_core.auth.keys import key_prefix
from tests.helpers import Api


def test_admin_user_scopes_are_validated(api: Api) -> None:
    before = api.table_counts()
    for scopes in (["__bogus__"], ["read", "root"], [], ["read"], ["read", "write"]):
        r = api.call("POST", "/users", api.admin_key, json={"name": "ada", "is_admin": True, "scopes": scopes})
        assert r.status_code == 400 and r.json()["field"] == "scopes", (scopes, r.text)
    assert api.table_counts() == before  # no user, no key, no audit row
    r = api.call("POST", "/users", api.admin_key, json={"name": "ada", "is_admin": True})
    assert r.status_code == 201 and r.json()["scopes"] == ["read", "write", "admin"], r.text
    r = api.call("POST", "/users", api.admin_key, json={"name": "bea", "is_admin": True, "scopes": ["admin"]})
    assert r.status_code == 201 and r.json()["scopes"] == ["read", "write", "admin"], r.text


def test_a_key_cannot_be_created_expired(api: Api) -> None:
    before = api.table_counts()
    for when in (datetime.now(UTC) - timedelta(seconds=1), datetime(2001, 1, 1, tzinfo=UTC)):
        r = api.call("POST", "/keys", api.admin_key, json={"scopes": ["read"], "expires_at": when.isoformat()})
        assert r.status_code == 400 and r.json()["field"] == "expires_at", r.text
    assert api.table_counts() == before
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    assert api.call("POST", "/keys", api.admin_key, json={"scopes": ["read"], "expires_at": later}).status_code == 201


def _key_id(api: Api, key: str) -> int:
    keys = api.call("GET", "/keys", key).json()["keys"]
    return int(next(k["id"] for k in keys if k["prefix"] == key_prefix(key)))


def test_the_last_active_admin_key_cannot_be_revoked(api: Api) -> None:
    admin_id = _key_id(api, api.admin_key)
    r = api.call("DELETE", f"/keys/{admin_id}", api.admin_key)
    assert r.status_code == 409 and "last active admin key" in r.json()["error"], r.text
    assert "engram keys create --admin" in r.json()["error"]
    assert api.call("GET", "/users", api.admin_key).status_code == 200
    # A read-only key of the admin, or another user's key, is not an admin key: revoking them is fine.
    reader = api.key(api.admin_key, ("read",))
    assert api.call("DELETE", f"/keys/{_key_id(api, reader)}", api.admin_key).status_code == 200
    # With a second admin key, the first can go; then the second is the last one.
    second = api.key(api.admin_key, ("admin",))
    assert api.call("DELETE", f"/keys/{admin_id}", second).status_code == 200
    second_id = _key_id(api, second)
    assert api.call("DELETE", f"/keys/{second_id}", second).status_code == 409
    assert api.call("GET", "/users", second).status_code == 200
