"""Backups over HTTP (encrypted like the source, temp files removed), backup verify, per-user quotas."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from starlette.testclient import TestClient

from engram_core.crypto.dbops import verify_database
from engram_core.settings import Settings
from engram_core.storage.connection import SQLITE_HEADER
from engram_server.app import create_app
from tests.helpers import Api


def _leftovers(data_dir: Path) -> list[str]:
    backups = data_dir / "backups"
    return sorted(p.name for p in backups.iterdir()) if backups.is_dir() else []


def test_plain_backup_downloads_a_consistent_copy_and_leaves_nothing(api: Api, settings: Settings,
                                                                     tmp_path: Path) -> None:  # fmt: skip
    ids = [api.store(api.admin_key, f"backup sentence number {i} about {w}") for i, w in
           enumerate(["otters", "granite", "violins"])]  # fmt: skip
    r = api.call("GET", "/backup", api.admin_key)
    assert r.status_code == 200, r.text
    assert r.headers["content-disposition"].startswith('attachment; filename="engram-')
    assert r.headers["x-engram-encrypted"] == "false" and r.headers["cache-control"] == "no-store"
    assert r.content[:16] == SQLITE_HEADER and int(r.headers["content-length"]) == len(r.content)
    copy = tmp_path / "downloaded.db"
    copy.write_bytes(r.content)
    with sqlite3.connect(copy) as conn:
        got = {row[0] for row in conn.execute("SELECT id FROM memories")}
    assert got == set(ids)
    assert verify_database(copy).tables["memories"] == 3
    assert _leftovers(settings.data_dir) == []  # the work file is gone
    audit = api.call("GET", "/audit", api.admin_key).json()["entries"]
    assert audit[0]["action"] == "backup.create"


def test_verify_live_and_latest(api: Api, settings: Settings) -> None:
    api.store(api.admin_key, "a memory worth verifying")
    r = api.call("POST", "/backup/verify", api.admin_key, json={})
    assert r.status_code == 200 and r.json()["ok"] is True and r.json()["target"] == "live"
    r = api.call("POST", "/backup/verify", api.admin_key, json={"target": "latest"})
    assert r.status_code == 404 and "no kept backup" in r.json()["error"]
    assert api.call("GET", "/backup", api.admin_key, params={"keep": "true"}).status_code == 200
    kept = _leftovers(settings.data_dir)
    assert len(kept) == 1 and kept[0].startswith("engram-")
    r = api.call("POST", "/backup/verify", api.admin_key, json={"target": "latest"})
    assert r.json()["ok"] is True and r.json()["file"] == kept[0] and r.json()["tables"]["memories"] == 1
    assert _leftovers(settings.data_dir) == kept  # no -wal/-shm left by the check
    (settings.data_dir / "backups" / kept[0]).write_bytes(SQLITE_HEADER + b"\x00" * 2000)
    r = api.call("POST", "/backup/verify", api.admin_key, json={"target": "latest"})
    assert r.status_code in (200, 503) and (r.status_code == 503 or r.json()["ok"] is False), r.text
    assert api.call("POST", "/backup/verify", api.admin_key, json={"target": "other"}).status_code == 400


def test_backup_needs_admin(api: Api) -> None:
    alice = api.user("alice")
    assert api.call("GET", "/backup", alice).status_code == 403
    assert api.call("POST", "/backup/verify", alice, json={}).status_code == 403


def test_encrypted_backup_stays_encrypted_and_stale_work_files_are_swept(tmp_path: Path) -> None:
    key_hex = os.urandom(32).hex()
    settings = Settings.for_data_dir(tmp_path / "d", bootstrap_secret="s", encryption_mode="env", db_key=key_hex)
    (settings.data_dir / "backups").mkdir(parents=True)
    (settings.data_dir / "backups" / ".tmp-crashed.db").write_bytes(b"left by a crash")
    with TestClient(create_app(settings)) as client:
        h = {"Authorization": "Bearer " + client.post("/bootstrap", json={"secret": "s"}).json()["key"]}
        assert client.post("/store", json={"content": "The heron nests by the mill pond"}, headers=h).status_code == 201
        r = client.get("/backup", headers=h)
        assert r.status_code == 200 and r.headers["x-engram-encrypted"] == "true"
    assert r.content[:16] != SQLITE_HEADER and b"heron" not in r.content
    copy = tmp_path / "copy.db"
    copy.write_bytes(r.content)
    assert verify_database(copy, bytes.fromhex(key_hex)).tables["memories"] == 1
    assert _leftovers(settings.data_dir) == []


def test_memory_quota_default_and_per_user_override(tmp_path: Path) -> None:
    settings = Settings.for_data_dir(tmp_path, bootstrap_secret="s", memory_quota=2)
    with TestClient(create_app(settings)) as client:
        api = Api(client, client.post("/bootstrap", json={"secret": "s"}).json()["key"])
        alice = api.user("alice")
        api.store(alice, "first memory about tulips")
        assert api.call("GET", "/quota", alice).json()["memories"] == {
            "used": 1, "limit": 2, "remaining": 1, "source": "default"}  # fmt: skip
        api.store(alice, "second memory about glaciers")
        r = api.call("POST", "/store", alice, json={"content": "third memory about comets"})
        assert r.status_code == 403 and "quota" in r.json()["error"]
        count = api.call("GET", "/me/stats", alice).json()["memories"]
        assert count == 2  # nothing half-written
        users = api.call("GET", "/users", api.admin_key).json()["users"]
        alice_id = next(u["id"] for u in users if u["name"] == "alice")
        assert api.call("PUT", "/admin/quotas", alice, json={"user_id": alice_id, "max_memories": 9}).status_code == 403
        r = api.call("PUT", "/admin/quotas", api.admin_key, json={"user_id": alice_id, "max_memories": 3})
        assert r.status_code == 200 and r.json()["memories"]["source"] == "user"
        api.store(alice, "third memory about comets")
        assert api.call("POST", "/store", alice, json={"content": "fourth about lanterns"}).status_code == 403
        api.call("PUT", "/admin/quotas", api.admin_key, json={"user_id": alice_id, "max_memories": 0})
        api.store(alice, "fourth about lanterns")  # 0: unlimited for this user
        r = api.call("PUT", "/admin/quotas", api.admin_key, json={"user_id": alice_id, "max_memories": None})
        assert r.json()["memories"]["source"] == "default" and r.json()["memories"]["limit"] == 2
        listed = api.call("GET", "/admin/quotas", api.admin_key).json()
        assert listed["default"] == 2 and {u["user_id"] for u in listed["users"]} == {1, alice_id}
        for body, status in (({"user_id": 999, "max_memories": 1}, 404),
                             ({"user_id": alice_id, "max_memories": -1}, 400)):  # fmt: skip
            assert api.call("PUT", "/admin/quotas", api.admin_key, json=body).status_code == status
        actions = [e["action"] for e in api.call("GET", "/audit", api.admin_key).json()["entries"]]
        assert actions.count("quota.set") == 3


def test_restore_from_trash_respects_the_quota(tmp_path: Path) -> None:
    settings = Settings.for_data_dir(tmp_path, bootstrap_secret="s", memory_quota=1)
    with TestClient(create_app(settings)) as client:
        key = client.post("/bootstrap", json={"secret": "s"}).json()["key"]
        api = Api(client, key)
        first = api.store(key, "the first memory about otters")
        assert api.call("DELETE", f"/memory/{first}", key).status_code == 200
        api.store(key, "a second memory, about beavers, fits while the first is in the trash")
        r = api.call("POST", f"/memory/{first}/restore", key)
        assert r.status_code == 403 and "quota" in r.json()["error"]
        assert [m["id"] for m in api.call("GET", "/memory/trash", key).json()["results"]] == [first]
        forgotten = api.call("GET", "/list", key).json()["results"][0]["id"]
        api.call("POST", f"/memory/{forgotten}/forget", key)
        assert api.call("POST", f"/memory/{forgotten}/restore", key).status_code == 200  # forgotten still counted


def test_one_user_at_quota_does_not_stop_another(tmp_path: Path) -> None:
    settings = Settings.for_data_dir(tmp_path, bootstrap_secret="s", memory_quota=2)
    with TestClient(create_app(settings)) as client:
        api = Api(client, client.post("/bootstrap", json={"secret": "s"}).json()["key"])
        alice, bob = api.user("alice"), api.user("bob")
        api.store(alice, "alice keeps bees on the roof")
        api.store(alice, "alice plays the bassoon on sundays")
        api.store(bob, "bob collects antique maps")
        api.park_background()
        before = api.table_counts()
        assert before["memories"] == 3 and before["memories_fts_docsize"] == 3 and before["jobs"] > 0

        r = api.call("POST", "/store", alice, json={"content": "alice learns to juggle", "tags": ["new"]})
        assert r.status_code == 403 and "quota" in r.json()["error"], r.text
        assert api.table_counts() == before  # the refused store wrote nothing, in any table

        api.store(bob, "bob found a map of atlantis")  # bob's own quota, one below its limit
        after = api.table_counts()
        assert after["memories"] == before["memories"] + 1
        assert api.call("GET", "/quota", alice).json()["memories"]["used"] == 2
        assert api.call("GET", "/quota", bob).json()["memories"]["used"] == 2
        r = api.call("POST", "/store", bob, json={"content": "bob draws a map of his garden"})
        assert r.status_code == 403 and "quota" in r.json()["error"]  # now bob is at his limit too
        assert [m["content"] for m in api.call("GET", "/list", alice).json()["results"]] == [
            "alice plays the bassoon on sundays", "alice keeps bees on the roof"]  # fmt: skip
