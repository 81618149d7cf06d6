"""Issue 18 §1: invalid UTF-8 in a request body is refused before anything is written, and rows damaged
before that (lone surrogates, invalid UTF-8 stored by SQLite's JSON functions) do not break any read."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from engram_core.settings import Settings
from engram_server.app import create_app
from tests.helpers import Api

from .edge_support import (
    BAD_UTF8,
    body_routes,
    body_with,
    failing_reads,
    fill,
    fingerprint,
    make_objects,
    string_fields,
    write_method,
)

JSON = {"Content-Type": "application/json"}


@pytest.fixture(scope="module")
def walk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Api, dict[str, int]]]:
    data = tmp_path_factory.mktemp("encoding") / "data"
    cfg = Settings.for_data_dir(data, bootstrap_secret="s", rate_limit_per_minute=10**9,
                                ip_rate_limit_per_minute=10**9, ttl_sweep_seconds=3600.0)  # fmt: skip
    with TestClient(create_app(cfg), raise_server_exceptions=False) as client:
        api = Api(client, client.post("/bootstrap", json={"secret": "s"}).json()["key"])
        ids = make_objects(api)
        api.park_background()
        yield api, ids


def test_every_string_field_of_every_route_refuses_invalid_utf8(walk: tuple[Api, dict[str, int]]) -> None:
    api, ids = walk
    before = fingerprint(api)
    sent = 0
    for spec in body_routes():
        path = fill(spec.path, ids)
        for field in string_fields(spec):
            for raw in BAD_UTF8:
                r = api.call(write_method(spec), path, api.admin_key, content=body_with(spec, ids, field, raw),
                             headers=JSON)  # fmt: skip
                sent += 1
                assert r.status_code == 400, (spec.path, field.name, raw, r.status_code, r.text)
                assert r.json()["field"] == "body" and "UTF-8" in r.json()["error"], r.text
    assert sent > 600  # every string field of every JSON-body route, /bootstrap included
    assert fingerprint(api) == before  # nothing written, in any table
    assert failing_reads(api, ids) == []


def test_valid_utf8_and_paired_surrogate_escapes_still_store(walk: tuple[Api, dict[str, int]]) -> None:
    api, _ = walk
    for raw in ('{"content": "caf\u00e9 \U0001f98a ok"}'.encode(), b'{"content": "pair \\ud83e\\udd8a ok"}',
                b'\xef\xbb\xbf{"content": "after a byte order mark"}'):  # fmt: skip
        r = api.call("POST", "/store", api.admin_key, content=raw, headers=JSON)
        assert r.status_code == 201, r.text


def test_a_utf16_body_is_refused(walk: tuple[Api, dict[str, int]]) -> None:
    api, _ = walk
    before = fingerprint(api)
    r = api.call("POST", "/store", api.admin_key, content='{"content": "utf-16 text"}'.encode("utf-16"),
                 headers=JSON)  # fmt: skip
    assert r.status_code in (400, 415) and r.json()["error"], r.text
    assert fingerprint(api) == before


def _plant_damage(api: Api, ids: dict[str, int]) -> None:
    """Rows as the bug left them: raw invalid UTF-8 in text columns (``CAST(X'..' AS TEXT)``) and lone
    surrogate escapes in JSON columns (which SQLite's JSON functions turn into invalid UTF-8 in turn)."""
    bad = "CAST(X'41eda08042c0af43' AS TEXT)"
    m, e, c = ids["memory"], ids["entity"], ids["conversation"]

    def run(conn: Any) -> None:
        conn.execute(f"UPDATE memories SET content = content || {bad}, category = {bad}, source = {bad},"
                     " tags = '[\"walk\",\"bad\\ud800\"]' WHERE id = ?", (m,))  # fmt: skip
        conn.execute(f"UPDATE entities SET name = {bad}, description = {bad}, aliases = '[\"\\udfff\"]' WHERE id = ?",
                     (e,))  # fmt: skip
        conn.execute(f"UPDATE projects SET description = {bad} WHERE id = ?", (ids["project"],))
        conn.execute(f"UPDATE episodes SET summary = {bad} WHERE id = ?", (ids["episode"],))
        conn.execute(f'UPDATE conversations SET title = {bad}, metadata = \'{{"k":"\\ud800"}}\' WHERE id = ?', (c,))
        conn.execute(f"UPDATE messages SET content = {bad} WHERE conversation_id = ?", (c,))
        conn.execute(f"UPDATE users SET name = {bad} WHERE id = 1")
        conn.execute(
            "INSERT INTO audit_log (user_id, key_id, action, target_type, target_id, detail, ip, created_at)"
            f" VALUES (1, 1, {bad}, 'memory', ?, '{{\"tags\":[\"\\ud800\"]}}', {bad}, '2026-01-01T00:00:00Z')",
            (m,),
        )

    api.engram.db.write(run)


def test_rows_damaged_before_the_fix_do_not_break_any_read(walk: tuple[Api, dict[str, int]]) -> None:
    api, ids = walk
    _plant_damage(api, ids)
    assert failing_reads(api, ids) == []
    r = api.call("GET", f"/memory/{ids['memory']}", api.admin_key)
    assert "\ufffd" in r.json()["content"] and any("\ufffd" in t for t in r.json()["tags"]), r.text
    assert api.call("GET", "/audit", api.admin_key, params={"user_id": 1}).status_code == 200
    # A write that reads the damaged row works too (and stores U+FFFD from then on).
    r = api.call("POST", f"/memory/{ids['memory']}/update", api.admin_key, json={"importance": 7})
    assert r.status_code == 200, r.text
