"""Memory events reach axon's system channel from inside the memory's own write transaction (and so
webhooks and streams): created, updated (a new version), deleted (trashed, purged) and
contradiction.detected; per user. They are there when the write returns: no polling."""

from __future__ import annotations

from typing import Any

from tests.helpers import Api


def _system(api: Api, key: str, n: int) -> list[dict[str, Any]]:
    events = api.call("GET", "/axon/events", key, params={"channel": "system", "limit": 100}).json()["events"]
    assert len(events) == n, events  # committed with the writes, so already all there
    return list(reversed(events))


def test_memory_writes_publish_system_events(api: Api) -> None:
    alice, bob = api.user("alice"), api.user("bob")
    first = api.store(alice, "The harbour crane lifts containers at dawn")
    second = api.store(alice, "The harbour crane never works at dawn")
    created = _system(api, alice, 2)
    assert [(e["action"], e["payload"]["memory_id"]) for e in created] == [
        ("memory.created", first), ("memory.created", second)]  # fmt: skip
    assert created[0]["payload"]["content"].startswith("The harbour crane") and created[0]["source"] == "engram"

    new = api.call("POST", f"/memory/{first}/update", alice, json={"content": "The harbour crane lifts at noon"})
    assert new.status_code == 200, new.text
    link = api.call("POST", "/links", alice, json={"source_id": second, "target_id": new.json()["new_id"],
                                                   "link_type": "contradicts"})  # fmt: skip
    assert link.status_code in (200, 201), link.text
    api.call("DELETE", f"/memory/{second}", alice)
    events = _system(api, alice, 5)[2:]
    kinds = [(e["action"], e["payload"].get("memory_id"), e["payload"].get("reason")) for e in events]
    assert kinds[0] == ("memory.updated", new.json()["new_id"], None) and events[0]["payload"]["previous_id"] == first
    assert events[1]["action"] == "contradiction.detected"
    assert (events[1]["payload"]["source_id"], events[1]["payload"]["target_id"]) == (second, new.json()["new_id"])
    assert kinds[2] == ("memory.deleted", second, "trashed")
    assert api.call("GET", "/axon/events", bob, params={"channel": "system"}).json()["count"] == 0


def test_a_memory_event_queues_a_webhook_delivery(api: Api) -> None:
    k = api.admin_key
    api.call("POST", "/webhooks", k, json={"url": "https://hooks.example.com/m", "events": ["memory.created"]})
    mid = api.store(k, "A note a webhook should hear about")
    _system(api, k, 1)

    def deliveries(conn: Any) -> list[tuple[str, str]]:
        return [tuple(r) for r in conn.execute("SELECT event, payload FROM webhook_deliveries")]

    rows = api.engram.db.read(deliveries)
    assert len(rows) == 1 and rows[0][0] == "memory.created" and f'"memory_id": {mid}' in rows[0][1]
