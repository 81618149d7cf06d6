"""GET /metrics and /metrics/prometheus (parsed with prometheus_client.parser), and the admin maintenance
routes: rebuild-fts, compact (a durable job with progress), gc, schema; admin-only unless configured."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from prometheus_client.parser import text_string_to_metric_families
from starlette.testclient import TestClient

from engram_core.settings import Settings
from engram_server.app import create_app
from tests.conftest import BOOTSTRAP_SECRET
from tests.helpers import Api

ADMIN_ROUTES = [
    ("GET", "/metrics"),
    ("GET", "/metrics/prometheus"),
    ("POST", "/admin/rebuild-fts"),
    ("POST", "/admin/compact"),
    ("POST", "/admin/gc"),
    ("GET", "/admin/schema"),
    ("GET", "/admin/embedding-info"),
    ("GET", "/stats"),
]


def _families(text: str) -> dict[str, Any]:
    return {f.name: f for f in text_string_to_metric_families(text)}


def _search(api: Api, key: str, query: str) -> list[int]:
    r = api.call("POST", "/search", key, json={"query": query})
    assert r.status_code == 200, r.text
    return [m["id"] for m in r.json()["results"]]


def test_prometheus_scrape_parses_and_labels_by_route_template(api: Api) -> None:
    mid = api.store(api.admin_key, "the lighthouse keeper counts herring gulls")
    trashed = api.store(api.admin_key, "a memory headed for the trash")
    assert api.call("DELETE", f"/memory/{trashed}", api.admin_key).status_code == 200
    assert api.call("GET", f"/memory/{mid}", api.admin_key).status_code == 200
    assert api.call("GET", "/memory/999999", api.admin_key).status_code == 404
    assert _search(api, api.admin_key, "herring gulls") == [mid]
    r = api.call("GET", "/metrics/prometheus", api.admin_key)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain; version=0.0.4")
    fams = _families(r.text)
    requests = [s for s in fams["engram_http_requests"].samples if s.name == "engram_http_requests_total"]
    routes = {(s.labels["method"], s.labels["route"], s.labels["status"]): s.value for s in requests}
    assert routes[("GET", "/memory/{id:int}", "200")] == 1
    assert routes[("GET", "/memory/{id:int}", "404")] == 1
    assert routes[("POST", "/search", "200")] == 1
    assert not any(str(mid) in s.labels["route"] for s in requests)  # never a raw path
    assert "user" not in " ".join(k for s in requests for k in s.labels)
    latency = {s.labels["route"] for s in fams["engram_http_request_duration_seconds"].samples}
    assert "/store" in latency
    stages = {s.labels["stage"] for s in fams["engram_search_stage_seconds"].samples if "stage" in s.labels}
    assert {"embed", "channels", "fuse", "total"} <= stages
    memories = {s.labels["state"]: s.value for s in fams["engram_memories"].samples}
    assert memories["active"] == 1 and memories["trashed"] == 1
    sizes = {s.labels["file"]: s.value for s in fams["engram_database_bytes"].samples}
    assert sizes["db"] > 0
    tx = [s for s in fams["engram_write_transaction_seconds"].samples if s.name.endswith("_count")]
    assert tx and tx[0].value >= 2
    assert "engram_write_queue_depth" in fams and "engram_embed_queue_depth" in fams
    models = {s.labels["model"]: s.value for s in fams["engram_model_loaded"].samples}
    assert set(models) == {"embedder", "reranker"}


def test_metrics_json_carries_the_same_families(api: Api) -> None:
    api.store(api.admin_key, "one memory for the json metrics")
    r = api.call("GET", "/metrics", api.admin_key)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["engram_memories"]["type"] == "gauge"
    active = [s for s in body["engram_memories"]["samples"] if s["labels"]["state"] == "active"]
    assert active[0]["value"] == 1
    stores = [s for s in body["engram_http_requests"]["samples"] if s["labels"].get("route") == "/store"]
    assert stores and stores[0]["value"] >= 1


def test_admin_routes_refuse_other_keys(api: Api) -> None:
    user = api.user("bob")
    for method, path in ADMIN_ROUTES:
        assert api.call(method, path, user).status_code == 403, path
        assert api.call(method, path).status_code == 401, path


def test_metrics_public_setting_opens_only_the_metrics(tmp_path: Path) -> None:
    settings = Settings.for_data_dir(tmp_path / "d", bootstrap_secret=BOOTSTRAP_SECRET, metrics_public=True)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        assert client.post("/bootstrap", json={"secret": BOOTSTRAP_SECRET}).status_code == 201
        r = client.get("/metrics/prometheus")
        assert r.status_code == 200 and "engram_memories" in _families(r.text)
        assert client.get("/metrics").status_code == 200
        assert client.get("/admin/schema").status_code == 401


def test_rebuild_fts_restores_an_emptied_index(api: Api) -> None:
    mid = api.store(api.admin_key, "quartz pebbles on the riverbank")
    api.engram.db.write(lambda c: c.execute("INSERT INTO memories_fts(memories_fts) VALUES ('delete-all')"))
    assert mid not in _search(api, api.admin_key, "quartz pebbles")
    r = api.call("POST", "/admin/rebuild-fts", api.admin_key)
    assert r.status_code == 200, r.text
    assert "memories_fts" in r.json()["rebuilt"] and r.json()["memories_indexed"] >= 1
    assert _search(api, api.admin_key, "quartz riverbank") == [mid]  # another query: no cached answer


def _wait_job(api: Api, job_id: int) -> dict[str, Any]:
    for _ in range(200):
        job = api.call("GET", f"/jobs/{job_id}", api.admin_key).json()
        if job["status"] in {"done", "failed"}:
            return job  # type: ignore[no-any-return]
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} did not finish: {job}")


def test_compact_runs_as_a_job_and_keeps_every_memory(api: Api) -> None:
    ids = [api.store(api.admin_key, f"compact me number {i} with words {i * 7}") for i in range(20)]
    for mid in ids[:10]:
        assert api.call("POST", f"/memory/{mid}/purge", api.admin_key).status_code in {200, 409}
    r = api.call("POST", "/admin/compact", api.admin_key)
    assert r.status_code == 202, r.text
    job = _wait_job(api, r.json()["job"]["id"])
    assert job["status"] == "done", job
    assert job["progress"] == 1.0
    assert job["result"]["steps"] == ["fts_optimize", "analyze", "vacuum", "wal_checkpoint"]
    assert job["result"]["after"]["db_bytes"] > 0
    assert api.call("GET", f"/memory/{ids[-1]}", api.admin_key).status_code == 200
    assert ids[-1] in _search(api, api.admin_key, "compact me number 19")


def test_gc_purges_old_trash_and_expired_ttl_only(api: Api) -> None:
    old = api.store(api.admin_key, "trashed long ago")
    recent = api.store(api.admin_key, "trashed just now")
    ttl = api.store(api.admin_key, "this one has a short life")
    bob = api.user("bob")
    bobs = api.store(bob, "bob trashed this long ago too")
    for key, mid in ((api.admin_key, old), (api.admin_key, recent), (bob, bobs)):
        assert api.call("DELETE", f"/memory/{mid}", key).status_code == 200

    def age(conn: Any) -> None:
        conn.execute("UPDATE memories SET deleted_at = '2000-01-01T00:00:00Z' WHERE id IN (?, ?)", (old, bobs))
        conn.execute("UPDATE memories SET forget_after = '2000-01-01T00:00:00Z' WHERE id = ?", (ttl,))

    api.engram.db.write(age)
    r = api.call("POST", "/admin/gc", api.admin_key)
    assert r.status_code == 200, r.text
    assert r.json()["purged"] == 2 and r.json()["expired"] == 1
    left = {row[0] for row in api.engram.db.read(lambda c: c.execute("SELECT id FROM memories").fetchall())}
    assert old not in left and bobs not in left and {recent, ttl} <= left
    trash = api.call("GET", "/memory/trash", api.admin_key).json()
    assert [m["id"] for m in trash["results"]] == [recent]


def test_schema_lists_migrations_and_tables(api: Api) -> None:
    api.store(api.admin_key, "a row to count")
    r = api.call("GET", "/admin/schema", api.admin_key)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["migrations"][0].startswith("0001") and body["version"] == body["migrations"][-1]
    assert body["tables"]["memories"] == 1 and "memories_fts_ai" in body["triggers"]
    assert body["db_bytes"] > 0 and body["sqlite_version"]
