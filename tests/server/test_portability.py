"""GET /export -> POST /import into a fresh server (and another user): every exported table's rows come
back the same, ids remapped consistently (compared by each row's rank within its table)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from engram_core.portability.tables import TABLES
from engram_core.settings import Settings
from engram_server.app import create_app
from tests.conftest import BOOTSTRAP_SECRET
from tests.helpers import Api
from tests.support.tiny_models import install_tiny_model

NDJSON = {"Content-Type": "application/x-ndjson"}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """The conftest's settings with a (tiny, real) embedding model: vectors travel in the export."""
    made = Settings.for_data_dir(tmp_path / "data", bootstrap_secret=BOOTSTRAP_SECRET, ttl_sweep_seconds=3600.0)
    install_tiny_model(made.models_dir)
    return made


@pytest.fixture
def other(tmp_path: Path) -> Iterator[Api]:
    """A second, fresh server."""
    settings = Settings.for_data_dir(tmp_path / "other", bootstrap_secret=BOOTSTRAP_SECRET, ttl_sweep_seconds=3600.0)
    install_tiny_model(settings.models_dir)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        r = client.post("/bootstrap", json={"secret": BOOTSTRAP_SECRET})
        yield Api(client, r.json()["key"])


def _user_id(api: Api, name: str) -> int:
    users = api.call("GET", "/users", api.admin_key).json()["users"]
    return int(next(u["id"] for u in users if u["name"] == name))


def _fill(api: Api, key: str) -> list[int]:
    """A user's memory touching every exported table."""
    ok = lambda r: r.status_code in (200, 201) or pytest.fail(r.text)  # noqa: E731
    space = api.call("POST", "/spaces", key, json={"name": "work"}).json()["id"]
    ids = [api.store(key, f"Note {i}: the harbour crane {w} lifts containers", tags=["port", w],
                     created_at=f"2024-0{i + 1}-02T10:00:00Z", importance=i + 3, space_id=space)
           for i, w in enumerate(["blue", "heavy", "slow", "noisy"])]  # fmt: skip
    ids.append(api.store(key, "Alice prefers Rust over Go for the billing service", is_static=True))
    up = api.call("POST", f"/memory/{ids[0]}/update", key, json={"content": "Note 0: the harbour crane is red now"})
    ok(up)
    ids[0] = up.json()["new_id"]
    ok(api.call("POST", f"/memory/{ids[1]}/forget", key, json={"reason": "stale"}))
    ok(api.call("POST", f"/memory/{ids[2]}/archive", key))
    ok(api.call("DELETE", f"/memory/{ids[3]}", key))
    ok(api.call("POST", "/fsrs/review", key, json={"id": ids[4], "grade": 3}))
    ok(api.call("POST", "/links", key, json={"source_id": ids[0], "target_id": ids[4], "link_type": "related"}))
    e1 = api.call("POST", "/entities", key, json={"name": "Alice", "type": "person", "memory_ids": [ids[4]]})
    e2 = api.call("POST", "/entities", key, json={"name": "Billing", "type": "project", "aliases": ["bill"]})
    ok(api.call("POST", "/entity-relationships", key, json={"source_entity_id": e1.json()["id"],
                                                             "target_entity_id": e2.json()["id"],
                                                             "relationship": "works_on"}))  # fmt: skip
    project = api.call("POST", "/projects", key, json={"name": "harbour"}).json()["id"]
    ok(api.call("PUT", f"/projects/{project}/memories/{ids[0]}", key))
    episode = api.call("POST", "/episodes", key, json={"title": "Dock visit", "started_at": "2024-01-02T09:00:00Z"})
    ok(api.call("POST", f"/episodes/{episode.json()['id']}/memories", key, json={"memory_ids": ids[:2]}))
    conv = api.call("POST", "/conversations", key, json={"title": "chat", "metadata": {"k": 1}}).json()["id"]
    for role, text in (("user", "hello there"), ("assistant", "hi, how can I help?")):
        ok(api.call("POST", f"/conversations/{conv}/messages", key, json={"role": role, "content": text}))
    ok(api.call("POST", "/feedback", key, json={"memory_id": ids[4], "rating": "helpful"}))
    ok(api.call("PUT", "/preferences", key, json={"preferences": {"language": "British English", "units": {"t": "C"}}}))
    ok(api.call("PUT", "/state", key, json={"agent": "coder", "state": {"task": "fix the crane", "step": 2}}))
    return ids


def _canonical(api: Api, user_id: int) -> dict[str, list[Any]]:
    """Every exported table (and the derived memory_tags) of one user, ids replaced by their rank."""

    def run(conn: Any) -> dict[str, list[Any]]:
        ranks: dict[str, dict[int, int]] = {}
        for t in TABLES:
            if t.id_column:
                ids = [r[0] for r in conn.execute(f'SELECT id FROM "{t.name}" WHERE user_id = ? ORDER BY id',
                                                  (user_id,))]  # fmt: skip
                ranks[t.name] = {v: i for i, v in enumerate(ids)}
        out: dict[str, list[Any]] = {}
        for t in (*TABLES, None):
            name = t.name if t else "memory_tags"
            refs = dict(t.refs) if t else {"memory_id": "memories"}
            if t and t.id_column:
                refs[t.id_column] = t.name
            rows = []
            for r in conn.execute(f'SELECT * FROM "{name}" WHERE user_id = ?', (user_id,)):
                d = {k: v for k, v in zip(r.keys(), r, strict=True) if k != "user_id"}
                for col, target in refs.items():
                    if d.get(col) is not None:
                        d[col] = ranks[target][d[col]]
                rows.append(json.dumps(d, sort_keys=True, default=lambda b: b.hex()))
            out[name] = sorted(rows)
        return out

    return dict(api.engram.db.read(run))


def test_round_trip_is_lossless_into_a_fresh_server_and_another_user(api: Api, other: Api) -> None:
    alice = api.user("alice")
    _fill(api, alice)
    api.park_background()  # background work (links, entities) settles before the snapshot
    before = _canonical(api, _user_id(api, "alice"))
    assert all(before[t.name] for t in TABLES if t.name not in {"personality_profiles", "digests",
               "personality_signals", "entity_cooccurrences"}), {k: len(v) for k, v in before.items()}  # fmt: skip

    r = api.call("GET", "/export", alice, params={"embeddings": "true"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/x-ndjson")
    lines = [json.loads(x) for x in r.text.splitlines()]
    assert lines[0]["type"] == "header" and lines[-1]["type"] == "end"
    assert lines[0]["model"] == api.engram.vectors.fingerprint

    other.store(other.admin_key, "the admin's own memory shifts every id on this server")
    bob = other.user("bob")
    other.store(bob, "Bob already had this memory")
    other.park_background()
    done = other.call("POST", "/import", bob, content=r.content, headers=NDJSON)
    assert done.status_code == 201, done.text
    assert done.json()["imported"]["memory"] == len(before["memories"])
    other.engram.db.write(lambda c: c.execute("DELETE FROM memories WHERE content LIKE 'Bob already%'"))
    after = _canonical(other, _user_id(other, "bob"))
    for table, rows in before.items():
        assert after[table] == rows, table

    # Re-exported from the new server: the same records but ids, user and time.
    again = other.call("GET", "/export", bob, params={"embeddings": "true"}).text.splitlines()
    assert len(again) == len(lines)


def test_import_is_all_or_nothing_and_refuses_bad_exports(api: Api) -> None:
    alice, bob = api.user("alice"), api.user("bob")
    _fill(api, alice)
    api.park_background()
    text = api.call("GET", "/export", alice).text
    lines = text.splitlines()
    counts = api.table_counts()

    def refused(body: str, field_part: str) -> None:
        r = api.call("POST", "/import", bob, content=body.encode(), headers=NDJSON)
        assert r.status_code == 400, r.text
        assert field_part in r.json()["field"], r.json()
        assert api.table_counts() == counts

    refused("\n".join(lines[:-3]), "body")  # truncated: no end record
    refused("\n".join([lines[0], *lines[2:]]), "records")  # one record lost: the count says so
    bad = json.loads(lines[2])
    bad["row"]["no_such_column"] = 1
    refused("\n".join([lines[0], lines[1], json.dumps(bad), *lines[3:]]), "no_such_column")
    link = next(i for i, x in enumerate(lines) if json.loads(x)["type"] == "link")
    dangling = json.loads(lines[link])
    dangling["row"]["target_id"] = 10**9
    refused("\n".join([*lines[:link], json.dumps(dangling), *lines[link + 1 :]]), "target_id")
    refused('{"type": "header", "format": "something-else", "version": 1}\n{"type": "end", "records": 0}', "line 1")
    refused(lines[0] + "\n{not json\n" + lines[-1], "line 2")
    r = api.call("POST", "/import", bob, content=b"\xff\xfe bad", headers=NDJSON)
    assert r.status_code == 400 and r.json()["field"] == "body"
    # What bob got: nothing (the export itself is fine and goes in whole).
    assert api.call("GET", "/list", bob).json()["results"] == []


def test_import_respects_the_quota_and_scopes(api: Api) -> None:
    alice, bob = api.user("alice"), api.user("bob")
    _fill(api, alice)
    text = api.call("GET", "/export", alice).content
    reader = api.key(bob, ("read",))
    assert api.call("POST", "/import", reader, content=text, headers=NDJSON).status_code == 403
    bob_id = _user_id(api, "bob")
    quota = api.call("PUT", "/admin/quotas", api.admin_key, json={"user_id": bob_id, "max_memories": 2})
    assert quota.status_code == 200
    r = api.call("POST", "/import", bob, content=text, headers=NDJSON)
    assert r.status_code == 403 and "quota" in r.json()["error"]
    assert api.call("GET", "/list", bob).json()["results"] == []


def test_plain_array_import_keeps_timestamps(api: Api) -> None:
    items = [{"content": "first imported thought about tides", "created_at": "2021-05-01T08:00:00Z"},
             {"text": "second one, about lighthouses", "tags": ["Sea"]}]  # fmt: skip
    r = api.call("POST", "/import", api.admin_key, json=items)
    assert r.status_code == 201, r.text
    assert r.json()["format"] == "array" and r.json()["imported"]["memory"] == 2
    mems = api.call("GET", "/list", api.admin_key).json()["results"]
    assert {m["created_at"][:10] for m in mems} >= {"2021-05-01"}
    assert api.call("POST", "/import", api.admin_key, json={"nothing": 1}).status_code == 400


def test_export_holds_only_the_callers_rows(api: Api) -> None:
    alice, bob = api.user("alice"), api.user("bob")
    _fill(api, alice)
    api.store(bob, "bob's kite")
    text = api.call("GET", "/export", bob).text
    assert "harbour" not in text and "bob's kite" in text
