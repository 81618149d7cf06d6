"""One-way sync between two real `engram serve` processes on loopback: a "laptop" and a "server". The test
pulls the laptop's GET /sync/changes page by page from the cursor and POSTs each page to the server's
/sync/receive, as a sync client would. Stores, updates, tags, trash, forget and purge arrive; the same
pages applied twice change nothing; only the syncing user's changes travel; a bad page writes nothing."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.support import admin_key, free_port, start_server
from tests.support.tiny_models import install_tiny_model

pytestmark = pytest.mark.slow


def _serve(tmp_path: Path, name: str, models: Path) -> Iterator[httpx.Client]:
    port = free_port()
    env = {**os.environ, "ENGRAM_DATA_DIR": str(tmp_path / name / "data"), "ENGRAM_PORT": str(port),
           "ENGRAM_LOG_LEVEL": "warning", "ENGRAM_MODELS_DIR": str(models)}  # fmt: skip
    env.pop("ENGRAM_BOOTSTRAP_SECRET", None)
    (tmp_path / name).mkdir()
    key = admin_key(env)
    proc = start_server(env)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {key}"},
                          timeout=30) as client:  # fmt: skip
            yield client
    finally:
        proc.terminate()
        proc.wait(timeout=15)


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[tuple[httpx.Client, httpx.Client]]:
    models = tmp_path / "models"
    install_tiny_model(models)
    laptop = _serve(tmp_path, "laptop", models)
    server = _serve(tmp_path, "server", models)
    try:
        yield next(laptop), next(server)
    finally:
        laptop.close()
        server.close()


def _ok(r: httpx.Response, status: int = 200) -> Any:
    assert r.status_code == status, (r.request.url, r.status_code, r.text)
    return r.json()


def _pull(laptop: httpx.Client, server: httpx.Client, since: int) -> tuple[int, list[list[dict[str, Any]]], int]:
    """Pull every page after ``since`` (2 changes a page) and apply each; returns (cursor, pages, applied)."""
    pages: list[list[dict[str, Any]]] = []
    applied = 0
    while True:
        page = _ok(laptop.get("/sync/changes", params={"since": since, "limit": 2}))
        assert page["since"] == since
        if page["changes"]:
            pages.append(page["changes"])
            applied += _ok(server.post("/sync/receive", json={"changes": page["changes"]}))["applied"]
        since = page["cursor"]
        if not page["more"]:
            return since, pages, applied


def _state(client: httpx.Client) -> dict[str, dict[str, Any]]:
    listed = _ok(client.get("/list", params={"limit": 500}))["results"]
    return {m["content"]: m for m in listed}


def test_laptop_changes_replicate_to_the_server_idempotently(pair: tuple[httpx.Client, httpx.Client]) -> None:
    laptop, server = pair
    store = lambda body: _ok(laptop.post("/store", json=body), 201)["id"]  # noqa: E731
    kite = store({"content": "The red kite nests above the old quarry", "tags": ["birds"], "importance": 7,
                  "created_at": "2023-04-05T06:07:08Z"})  # fmt: skip
    otter = store({"content": "Otters were seen under the north bridge", "category": "sightings"})
    heron = store({"content": "A grey heron fishes at the weir every dawn"})
    store({"content": "The owl box on the barn is empty this year"})
    otter = _ok(
        laptop.post(f"/memory/{otter}/update", json={"content": "Otters (three) were seen under the north bridge"})
    )["new_id"]
    _ok(laptop.delete(f"/memory/{heron}"))
    # another user on the laptop: never in this user's change log
    bob = _ok(laptop.post("/users", json={"name": "bob", "scopes": ["read", "write"]}), 201)["api_key"]
    _ok(laptop.post("/store", json={"content": "Bob's private note about kites"},
                    headers={"Authorization": f"Bearer {bob}"}), 201)  # fmt: skip

    cursor, pages, applied = _pull(laptop, server, 0)
    # kite, otter (one entry for both versions), heron (stored then trashed: only its delete, nothing to apply), owl
    assert [len(p) for p in pages] == [2, 2] and applied == 3
    assert not any("Bob" in str(p) for p in pages)
    got = _state(server)
    assert set(got) == {"The red kite nests above the old quarry", "Otters (three) were seen under the north bridge",
                        "The owl box on the barn is empty this year"}  # fmt: skip
    red = got["The red kite nests above the old quarry"]
    assert red["created_at"].startswith("2023-04-05T06:07:08") and red["tags"] == ["birds"] and red["importance"] == 7
    assert got["Otters (three) were seen under the north bridge"]["category"] == "sightings"

    # the same pages again: nothing changes
    before = _ok(server.get("/sync/changes", params={"limit": 1000}))
    for page in pages:
        again = _ok(server.post("/sync/receive", json={"changes": page}))
        assert again["applied"] == 0 and again["skipped"] == len(page)
    assert _ok(server.get("/sync/changes", params={"limit": 1000}))["changes"] == before["changes"]
    # the server keeps the laptop's sync ids: its own log names the same chains
    assert {c["sync_id"] for c in before["changes"]} <= {c["sync_id"] for p in pages for c in p}

    # later changes: only they come after the cursor
    _ok(laptop.put(f"/memory/{kite}/tags", json={"tags": ["birds", "raptors"]}))
    _ok(laptop.post(f"/memory/{otter}/forget", json={"reason": "wrong bridge"}))
    owl = _ok(laptop.get("/list", params={"limit": 500}))["results"]
    owl_id = next(m["id"] for m in owl if m["content"].startswith("The owl box"))
    _ok(laptop.post(f"/memory/{owl_id}/purge"))
    cursor2, pages2, applied2 = _pull(laptop, server, cursor)
    assert cursor2 > cursor and sum(len(p) for p in pages2) == 3 and applied2 == 3
    got = _state(server)
    assert set(got) == {"The red kite nests above the old quarry"}  # otter forgotten, owl deleted
    assert got["The red kite nests above the old quarry"]["tags"] == ["birds", "raptors"]
    assert _pull(laptop, server, cursor2)[1:] == ([], 0)  # nothing new


def test_a_bad_page_is_refused_whole(pair: tuple[httpx.Client, httpx.Client]) -> None:
    laptop, server = pair
    _ok(laptop.post("/store", json={"content": "Swifts return in the first week of May"}), 201)
    good = _ok(laptop.get("/sync/changes"))["changes"]
    before = _ok(server.get("/sync/changes"))
    for bad, field in (({"change_type": "insert", "content": "x"}, "changes[1].sync_id"),
                       ({"sync_id": "zz:1", "change_type": "upsert"}, "changes[1].change_type"),
                       ({"sync_id": "zz:2", "change_type": "insert"}, "changes[1].content"),
                       ({"sync_id": "zz:3", "change_type": "insert", "content": "x", "importance": 11},
                        "changes[1].importance")):  # fmt: skip
        r = server.post("/sync/receive", json={"changes": [*good, bad]})
        assert r.status_code == 400 and r.json()["field"] == field, r.text
    assert _ok(server.get("/sync/changes")) | {"server_time": 0} == before | {"server_time": 0}
    assert _ok(server.post("/sync/receive", json={"changes": good}))["applied"] == 1
