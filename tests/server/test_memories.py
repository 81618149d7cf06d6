"""Memory lifecycle over the API: store, get, list, update, tags, forget, archive, trash, purge, TTL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.helpers import Api


def _count(api: Api, sql: str) -> Any:
    db = api.client.app.state.engram.db  # type: ignore[attr-defined]
    return db.read(lambda c: c.execute(sql).fetchone()[0])


def test_store_normalises_and_returns_the_documented_shape(api: Api) -> None:
    r = api.call("POST", "/store", api.admin_key, json={
        "content": "  Prefers dark roast coffee  ", "tags": [" Coffee", "coffee", "MORNING"], "importance": 8,
        "category": "preference", "created_at": "2023-05-08T13:56:00",
    })  # fmt: skip
    assert r.status_code == 201
    body = r.json()
    assert set(body) >= {"stored", "id", "created_at", "importance", "embedded", "tags", "decay_score"}
    assert body["tags"] == ["coffee", "morning"] and body["importance"] == 8
    assert body["created_at"] == "2023-05-08T13:56:00.000000Z"
    got = api.call("GET", f"/memory/{body['id']}", api.admin_key).json()
    assert got["content"] == "Prefers dark roast coffee" and got["access_count"] == 1
    assert api.call("GET", f"/memory/{body['id']}", api.admin_key).json()["access_count"] == 2


def test_failed_validation_writes_nothing(api: Api) -> None:
    before = (_count(api, "SELECT count(*) FROM memories"), _count(api, "SELECT count(*) FROM audit_log"))
    for body in [{"content": ""}, {"content": "x", "importance": 11}, {"content": "x", "tags": [1]},
                 {"content": "x", "created_at": "yesterday-ish"}, {"content": "x", "space_id": 999}]:  # fmt: skip
        assert api.call("POST", "/store", api.admin_key, json=body).status_code in {400, 404}
    after = (_count(api, "SELECT count(*) FROM memories"), _count(api, "SELECT count(*) FROM audit_log"))
    assert before == after


def test_update_makes_a_version_chain(api: Api) -> None:
    first = api.store(api.admin_key, "Lives in Berlin", tags=["home"])
    r = api.call("POST", f"/memory/{first}/update", api.admin_key, json={"content": "Lives in Lisbon"}).json()
    assert r["updated"] and r["old_id"] == first and r["version"] == 2 and r["root_id"] == first
    second = r["new_id"]
    third = api.call("POST", f"/memory/{second}/update", api.admin_key, json={"importance": 9}).json()["new_id"]
    chain = api.call("GET", f"/versions/{third}", api.admin_key).json()
    assert [v["version"] for v in chain["chain"]] == [1, 2, 3]
    assert [v["is_latest"] for v in chain["chain"]] == [False, False, True]
    latest = api.call("GET", f"/memory/{third}", api.admin_key).json()
    assert latest["content"] == "Lives in Lisbon" and latest["importance"] == 9 and latest["tags"] == ["home"]
    # Updating an old version is a conflict; search sees only the latest.
    assert api.call("POST", f"/memory/{first}/update", api.admin_key, json={"content": "x"}).status_code == 409
    hits = api.call("POST", "/search", api.admin_key, json={"query": "lives berlin lisbon"}).json()["results"]
    assert [h["id"] for h in hits] == [third]
    assert _count(api, f"SELECT count(*) FROM memory_links WHERE link_type = 'updates' AND source_id = {second}") == 1


def test_forget_archive_trash_restore_purge(api: Api) -> None:
    key = api.admin_key
    mid = api.store(key, "The staging password rotates monthly")

    def search() -> list[int]:
        hits = api.call("POST", "/search", key, json={"query": "staging password"}).json()["results"]
        return [h["id"] for h in hits]

    assert search() == [mid]
    assert api.call("POST", f"/memory/{mid}/forget", key, json={"reason": "stale"}).json() == {
        "forgotten": True,
        "id": mid,
    }
    assert search() == []
    assert api.call("POST", f"/memory/{mid}/restore", key).json()["restored"]
    assert search() == [mid]
    assert api.call("POST", f"/memory/{mid}/archive", key).json() == {"archived": True, "id": mid}
    assert search() == [] and api.call("GET", "/list", key).json()["total"] == 0
    assert api.call("GET", "/list", key, params={"include_archived": "true"}).json()["total"] == 1
    api.call("POST", f"/memory/{mid}/unarchive", key)
    assert search() == [mid]
    assert api.call("DELETE", f"/memory/{mid}", key).json() == {"deleted": True, "id": mid}
    assert search() == [] and api.call("GET", f"/memory/{mid}", key).status_code == 404
    assert [m["id"] for m in api.call("GET", "/memory/trash", key).json()["results"]] == [mid]
    api.call("POST", f"/memory/{mid}/restore", key)
    assert search() == [mid]
    assert api.call("POST", f"/memory/{mid}/purge", key).json()["purged"]
    assert _count(api, f"SELECT count(*) FROM memories WHERE id = {mid}") == 0
    assert _count(api, "SELECT count(*) FROM memories_fts WHERE memories_fts MATCH 'staging'") == 0
    assert api.call("GET", f"/memory/{mid}", key).status_code == 404


def test_ttl_is_honoured_on_read_and_swept(api: Api) -> None:
    key = api.admin_key
    past = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    soon = (datetime.now(UTC) + timedelta(minutes=5)).isoformat()
    gone = api.store(key, "ephemeral note about the build cache", forget_after=soon)
    kept = api.store(key, "durable note about the build cache", forget_after=future)
    # Time passes (a TTL already past at store time is refused: test_small_truths.py).
    sql = "UPDATE memories SET forget_after = ? WHERE id = ?"
    api.client.app.state.engram.db.write(lambda c: c.execute(sql, (past, gone)))  # type: ignore[attr-defined]
    assert api.call("GET", f"/memory/{gone}", key).status_code == 404
    ids = [h["id"] for h in api.call("POST", "/search", key, json={"query": "build cache"}).json()["results"]]
    assert ids == [kept]
    engram = api.client.app.state.engram  # type: ignore[attr-defined]
    assert engram.db.write(lambda c: __import__("engram_core.memories.writes", fromlist=["x"]).sweep_expired(c)) == 1
    assert _count(api, f"SELECT is_forgotten FROM memories WHERE id = {gone}") == 1


def test_list_filters_and_pagination(api: Api) -> None:
    key = api.admin_key
    for i in range(7):
        api.store(key, f"note number {i}", category="a" if i % 2 else "b", tags=["odd"] if i % 2 else ["even"])
    page = api.call("GET", "/list", key, params={"limit": 3, "offset": 0}).json()
    assert page["total"] == 7 and page["count"] == 3 and page["results"][0]["content"] == "note number 6"
    assert api.call("GET", "/list", key, params={"category": "a"}).json()["total"] == 3
    assert api.call("GET", "/list", key, params={"tags": "even"}).json()["total"] == 4
    assert api.call("GET", "/list", key, params={"limit": "many"}).json()["field"] == "limit"
    tags = {t["tag"]: t["count"] for t in api.call("GET", "/tags", key).json()["tags"]}
    assert tags == {"odd": 3, "even": 4}


def test_tags_replace(api: Api) -> None:
    mid = api.store(api.admin_key, "tagged", tags=["a"])
    r = api.call("PUT", f"/memory/{mid}/tags", api.admin_key, json={"tags": ["B", "c "]})
    assert r.json()["tags"] == ["b", "c"]
    assert api.call("GET", f"/memory/{mid}", api.admin_key).json()["tags"] == ["b", "c"]
    hits = api.call("POST", "/search", api.admin_key, json={"query": "c"}).json()["results"]
    assert [h["id"] for h in hits] == [mid]


def test_search_survives_fts_syntax(api: Api) -> None:
    api.store(api.admin_key, "quotes and stars")
    for q in ['"unbalanced', "NEAR(a b)", "*", "^start", "content:x", "a AND OR NOT", ")(", "!!!", "ünïcödé 漢字"]:
        r = api.call("POST", "/search", api.admin_key, json={"query": q})
        assert r.status_code == 200, (q, r.text)


def test_every_mutation_is_audited(api: Api) -> None:
    key = api.admin_key
    mid = api.store(key, "audited")
    api.call("POST", f"/memory/{mid}/forget", key)
    actions = [e["action"] for e in api.call("GET", "/audit", key).json()["entries"]]
    assert actions[:2] == ["memory.forget", "memory.store"]
