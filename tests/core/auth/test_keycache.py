"""The per-process key cache: a hit skips the read pool, and a key change made through another connection
or another process (the CLI) is seen by the very next request."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from engram_core.auth.context import AuthContext
from engram_core.auth.keycache import KeyCache
from engram_core.auth.keys import create_key, revoke_key, rotate_key
from engram_core.auth.service import AuthService
from engram_core.auth.users import create_user
from engram_core.errors import Unauthorized
from engram_core.settings import Settings
from engram_core.storage.database import Database

LOCAL = AuthContext.local()


@pytest.fixture
def served(settings: Settings) -> Iterator[tuple[AuthService, Database, dict[str, Any]]]:
    """The server's AuthService, a second Database on the same file (another writer), and a user's key."""
    db = Database(settings.db_path)
    other = Database(settings.db_path, migrate=False)
    made = other.write(lambda c: create_user(c, None, "alice", is_admin=True, scopes=("admin",)))
    yield AuthService(db, settings), other, made
    other.close()
    db.close()


def _auth(service: AuthService, key: str) -> AuthContext:
    return asyncio.run(service.authenticate(f"Bearer {key}"))


def _key_id(db: Database, key: str) -> int:
    return int(db.read(lambda c: c.execute("SELECT id FROM api_keys WHERE prefix = ?", (key[7:15],)).fetchone()[0]))


def test_a_hit_is_served_from_the_cache(served: tuple[AuthService, Database, dict[str, Any]]) -> None:
    service, _, made = served
    first, second = _auth(service, made["api_key"]), _auth(service, made["api_key"])
    assert first == second and first.is_admin and service.keys.hits == 1


def test_a_key_revoked_through_another_connection_is_refused_on_the_next_request(
    served: tuple[AuthService, Database, dict[str, Any]],
) -> None:
    service, other, made = served
    key = made["api_key"]
    spare = other.write(lambda c: create_key(c, made["id"], ["admin"], auth=LOCAL))  # not the last admin key
    assert _auth(service, key).user_id == made["id"]  # cached now
    other.write(lambda c: revoke_key(c, LOCAL, _key_id(other, key)))
    with pytest.raises(Unauthorized, match="revoked"):
        _auth(service, key)
    # rotated elsewhere with no grace: the old key's new expiry applies at once
    assert _auth(service, spare["key"]).key_id == spare["id"]
    other.write(lambda c: rotate_key(c, LOCAL, spare["id"], 0.0))
    with pytest.raises(Unauthorized, match="expired"):
        _auth(service, spare["key"])


def test_a_user_demoted_elsewhere_loses_admin_on_the_next_request(
    served: tuple[AuthService, Database, dict[str, Any]],
) -> None:
    service, other, made = served
    assert _auth(service, made["api_key"]).is_admin
    other.write(lambda c: c.execute("UPDATE users SET is_admin = 0 WHERE id = ?", (made["id"],)))
    assert not _auth(service, made["api_key"]).is_admin


def test_engram_keys_revoke_in_another_process_takes_effect_at_once(
    served: tuple[AuthService, Database, dict[str, Any]], settings: Settings
) -> None:
    service, other, made = served
    key = other.write(lambda c: create_key(c, made["id"], ["read"], auth=LOCAL))
    assert _auth(service, key["key"]).scopes == ("read",)
    env = {**os.environ, "ENGRAM_ENCRYPTION_MODE": "none"}
    cli = [sys.executable, "-m", "engram_core.cli", "keys", "--data-dir", str(settings.data_dir)]
    done = subprocess.run([*cli, "revoke", str(key["id"])], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and f"key {key['id']} revoked" in done.stdout, done.stdout + done.stderr
    with pytest.raises(Unauthorized, match="revoked"):
        _auth(service, key["key"])


def test_an_entry_expires_by_the_clock_and_a_failed_check_empties_the_cache(tmp_path: Path) -> None:
    db = Database(tmp_path / "x.db")
    cache = KeyCache(db.reader)
    ctx = AuthContext(user_id=1, scopes=("read",), key_id=1)
    cache.put("h", ctx, "2030-01-01T00:00:00Z", 0)
    assert cache.get("h", "2029-12-31T23:59:59Z") == ctx
    assert cache.get("h", "2030-01-01T00:00:00Z") is None  # expired: dropped
    cache.put("h", ctx, None, 0)
    db.close()  # the cache's connection is closed with the database: no answer, no hit
    assert cache.get("h", "2029-01-01T00:00:00Z") is None
