"""An acknowledged write survives a restart; a write that fails half-way leaves nothing behind."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from starlette.testclient import TestClient

from engram_core.settings import Settings
from engram_server.app import create_app
from tests.conftest import BOOTSTRAP_SECRET
from tests.helpers import Api


def test_memory_survives_restart(settings: Settings) -> None:
    with TestClient(create_app(settings)) as client:
        key = client.post("/bootstrap", json={"secret": BOOTSTRAP_SECRET}).json()["key"]
        h = {"Authorization": f"Bearer {key}"}
        mid = client.post("/store", json={"content": "Deploys happen on Tuesdays"}, headers=h).json()["id"]
    with TestClient(create_app(settings)) as client:
        got = client.get(f"/memory/{mid}", headers=h)
        assert got.status_code == 200 and got.json()["content"] == "Deploys happen on Tuesdays"
        hits = client.post("/search", json={"query": "deploys tuesday"}, headers=h).json()["results"]
        assert [x["id"] for x in hits] == [mid]


def test_a_failure_mid_store_leaves_nothing_half_written(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    api.store(api.admin_key, "I love hiking in the mountains")
    api.park_background()
    before = api.table_counts()
    seen: dict[str, int] = {}

    def fail_once(conn: Any, memory: Any) -> None:
        """Registered last: runs after the row, its FTS entry, signals, job and audit entry were written."""
        if seen:
            return
        for table in ("memories", "memories_fts_docsize", "personality_signals", "jobs", "audit_log"):
            seen[table] = conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        raise RuntimeError("injected failure after the insert")

    api.engram.memories.in_write_tx(fail_once)
    with caplog.at_level(logging.ERROR, logger="engram.server"):
        r = api.call("POST", "/store", api.admin_key, json={"content": "I prefer tea over coffee", "tags": ["x"]})
    assert r.status_code == 500 and r.json() == {"error": "internal error"}, r.text
    assert r.headers["content-type"] == "application/json" and r.headers["x-content-type-options"] == "nosniff"
    assert any("injected failure" in str(rec.exc_info) for rec in caplog.records)  # logged with its traceback
    # The hook really ran mid-way: the transaction had written to every one of these tables.
    assert all(seen[t] > before[t] for t in seen), (seen, before)
    assert api.table_counts() == before

    mid = api.store(api.admin_key, "I prefer tea over coffee")  # the hook now passes: the same store works
    after = api.table_counts()
    assert after["memories"] == before["memories"] + 1 and after["personality_signals"] > before["personality_signals"]
    hits = api.call("POST", "/search", api.admin_key, json={"query": "tea coffee"}).json()["results"]
    assert [h["id"] for h in hits] == [mid]
