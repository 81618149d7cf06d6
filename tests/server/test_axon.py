"""axon through the API (TestClient): publish shapes of both reference servers, listing, channels,
subscriptions, cursors, payload limits, the hub's bounded buffer, and users kept apart."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from engram_core.services.axon.hub import Hub
from engram_core.timeutil import format_ts
from tests.helpers import Api


def test_publish_list_get_channels_and_stats(api: Api) -> None:
    k = api.admin_key
    r = api.call("POST", "/axon/publish", k, json={"channel": "ci", "event_type": "build.ok", "payload": {"n": 1},
                                                   "agent": "builder"})  # fmt: skip
    assert r.status_code == 201, r.text
    ev = r.json()
    assert ev["action"] == ev["type"] == "build.ok" and ev["source"] == ev["agent"] == "builder"
    ts = api.call("POST", "/axon/publish", k, json={"channel": "ci", "type": "build.fail", "source": "ts",
                                                    "data": {"x": 2}}).json()  # fmt: skip
    assert ts["action"] == "build.fail" and ts["payload"] == {"x": 2}
    listed = api.call("GET", "/axon/events", k, params={"channel": "ci"}).json()
    assert [e["id"] for e in listed["events"]] == [ts["id"], ev["id"]] and listed["count"] == 2
    assert api.call("GET", "/axon/events", k, params={"action": "build.ok"}).json()["count"] == 1
    assert api.call("GET", "/axon/events", k, params={"since_id": ev["id"]}).json()["count"] == 1
    assert api.call("GET", f"/axon/events/{ev['id']}", k).json()["payload"] == {"n": 1}
    made = api.call("POST", "/axon/channels", k, json={"name": "alerts", "description": "pages"})
    assert made.status_code == 201 and made.json()["ok"] is True and made.json()["channel"] == "alerts"
    assert api.call("POST", "/axon/channels", k, json={"name": "alerts"}).status_code == 201  # idempotent
    chans = {c["name"]: c for c in api.call("GET", "/axon/channels", k).json()["channels"]}
    assert chans["ci"]["event_count"] == 2 and chans["alerts"]["description"] == ""
    stats = api.call("GET", "/axon/stats", k).json()
    assert stats["total_events"] == 2 and stats["channels"] == 2 and stats["sse_clients"] == 0


def test_bad_input_is_refused_with_the_field(api: Api) -> None:
    k = api.admin_key
    r = api.call("POST", "/axon/publish", k, json={"channel": "a\nb"})
    assert r.status_code == 400 and r.json()["field"] == "channel"
    r = api.call("POST", "/axon/publish", k, json={"channel": "c", "payload": {"blob": "x" * 70_000}})
    assert r.status_code == 400 and r.json()["field"] == "payload"
    r = api.call("POST", "/axon/subscribe", k, json={"channel": "c", "webhook_url": "http://127.0.0.1:9/x"})
    assert r.status_code == 400 and r.json()["field"] == "webhook_url"
    assert api.call("GET", "/axon/stream", k, headers={"Last-Event-ID": "abc"}).status_code == 400
    assert api.table_counts()["axon_events"] == 0


def test_subscriptions_and_cursor_polling(api: Api) -> None:
    k = api.admin_key
    sub = api.call("POST", "/axon/subscribe", k, json={"agent": "w", "channel": "jobs", "filter_type": "x"})
    assert sub.status_code == 201 and sub.json()["agent"] == "w"
    api.call("POST", "/axon/subscribe", k, json={"agent": "w", "channel": "jobs"})  # upsert
    assert api.call("GET", "/axon/subscriptions", k, params={"agent": "w"}).json()["count"] == 1
    ids = [api.call("POST", "/axon/publish", k, json={"channel": "jobs"}).json()["id"] for _ in range(4)]
    a = api.call("POST", "/axon/poll", k, json={"agent": "w", "channel": "jobs", "limit": 3}).json()
    b = api.call("GET", "/axon/poll", k, params={"agent": "w", "channel": "jobs"}).json()
    assert [e["id"] for e in a["events"]] + [e["id"] for e in b["events"]] == ids
    assert api.call("POST", "/axon/poll", k, json={"agent": "w", "channel": "jobs"}).json()["count"] == 0
    other = api.call("POST", "/axon/poll", k, json={"agent": "other"}).json()  # its own cursor, all channels
    assert other["count"] == 4
    stateless = api.call("POST", "/axon/poll", k, json={"cursor": ids[1]}).json()
    assert [e["id"] for e in stateless["events"]] == ids[2:]
    assert (
        api.call("GET", "/axon/cursor", k, params={"agent": "w", "channel": "jobs"}).json()["last_event_id"] == ids[3]
    )
    gone = api.call("DELETE", "/axon/subscribe", k, json={"agent": "w", "channel": "jobs"}).json()
    assert gone["deleted"] is True
    assert api.call("POST", "/axon/unsubscribe", k, json={"agent": "w", "channel": "jobs"}).json()["deleted"] is False


def test_users_never_see_each_others_events(api: Api) -> None:
    alice, bob = api.user("alice"), api.user("bob")
    ev = api.call("POST", "/axon/publish", alice, json={"channel": "private", "payload": {"s": "alice-only"}}).json()
    assert api.call("GET", f"/axon/events/{ev['id']}", bob).status_code == 404
    assert "alice-only" not in api.call("GET", "/axon/events", bob).text
    assert api.call("POST", "/axon/poll", bob, json={"cursor": 0}).json()["count"] == 0
    assert api.call("GET", "/axon/channels", bob).json()["channels"] == []


def test_hub_drops_a_subscriber_whose_buffer_is_full() -> None:
    async def run() -> None:
        hub = Hub(buffer=2)
        slow, other = hub.add(1, None), hub.add(1, frozenset({"b"}))
        events = [{"id": i, "user_id": 1, "channel": "a"} for i in range(3)]
        hub.deliver(events + [{"id": 9, "user_id": 2, "channel": "b"}])
        assert slow.dropped and slow.queue.qsize() == 2 and hub.dropped_total == 1
        assert not other.dropped and other.queue.qsize() == 0  # other channel, other user: nothing
        hub.remove(slow)
        assert hub.count(1) == 1

    asyncio.run(run())


def test_events_older_than_their_channel_retention_are_pruned(api: Api) -> None:
    k = api.admin_key
    api.call("POST", "/axon/channels", k, json={"name": "short", "retain_hours": 1})
    old = api.call("POST", "/axon/publish", k, json={"channel": "short"}).json()["id"]
    kept = api.call("POST", "/axon/publish", k, json={"channel": "short"}).json()["id"]
    other = api.call("POST", "/axon/publish", k, json={"channel": "long"}).json()["id"]  # default: 168 hours
    two_hours_ago = format_ts(datetime.now(UTC) - timedelta(hours=2))
    sql = "UPDATE axon_events SET created_at = ? WHERE id IN (?, ?)"
    api.engram.db.write(lambda c: c.execute(sql, (two_hours_ago, old, other)))
    assert api.client.portal.call(api.engram.services.axon.prune) == 1
    ids = [e["id"] for e in api.call("GET", "/axon/events", k).json()["events"]]
    assert old not in ids and kept in ids and other in ids
