"""GET /sync/changes?since= takes a cursor or an ISO-8601 timestamp with a timezone: a timestamp lists the
caller's changes logged at or after it (the log's times are set here, no waiting), a bad one is a 400 naming
``since``."""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers import Api


def _changes(api: Api, key: str, since: Any) -> dict[str, Any]:
    r = api.call("GET", "/sync/changes", key, params={"since": since})
    assert r.status_code == 200, r.text
    return dict(r.json())


def _stamp(api: Api, memory_id: int, when: str) -> None:
    sql = "UPDATE sync_log SET created_at = ? WHERE memory_id = ?"
    api.engram.db.write(lambda c: c.execute(sql, (when, memory_id)))


def test_since_a_timestamp_lists_the_changes_logged_at_or_after_it(api: Api) -> None:
    alice, bob = api.user("alice"), api.user("bob")
    old = api.store(alice, "the boiler was serviced in March")
    new = api.store(alice, "the boiler pressure dropped in November")
    api.store(bob, "bob's own note, never listed for alice")
    _stamp(api, old, "2026-03-01T10:00:00.000000Z")
    _stamp(api, new, "2026-11-20T10:00:00.000000Z")
    everything = _changes(api, alice, 0)
    assert [c["content"] for c in everything["changes"]] == [
        "the boiler was serviced in March",
        "the boiler pressure dropped in November",
    ]
    for since in ("2026-11-20T10:00:00Z", "2026-11-20T11:00:00+01:00", "2026-06-01T00:00:00.5-07:30"):
        page = _changes(api, alice, since)
        assert [c["id"] for c in page["changes"]] == [new], since
        assert page["since"] == everything["changes"][0]["cursor"]  # the resolved cursor, usable as a cursor
        assert page["cursor"] == everything["cursor"]
    assert [c["id"] for c in _changes(api, alice, "2026-01-01T00:00:00z")["changes"]] == [old, new]
    after = _changes(api, alice, "2026-11-20T10:00:00.000001Z")
    assert after["changes"] == [] and after["cursor"] == everything["cursor"] and not after["more"]
    # the cursor a timestamp pull hands back continues as any cursor does
    newer = api.store(alice, "the boiler was replaced")
    assert [c["id"] for c in _changes(api, alice, after["cursor"])["changes"]] == [newer]


@pytest.mark.parametrize(
    "since",
    ["yesterday", "2026-11-20T10:00:00", "2026-11-20", "2026-13-01T00:00:00Z", "-1", "", "1.5",
     str(2**63), "0001-01-01T00:00:00+01:00", "²"],
)  # fmt: skip
def test_a_bad_since_is_a_400_naming_it(api: Api, since: str) -> None:
    r = api.call("GET", "/sync/changes", api.admin_key, params={"since": since})
    assert r.status_code == 400, r.text
    assert r.json()["field"] == "since", r.json()
