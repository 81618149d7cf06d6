"""The webhook row of an axon subscription that has a ``webhook_url``: events on the subscription's
channel (of its ``filter_type``, if set) are queued for that URL in the event's own transaction and sent
by the webhook sender, signed, retried and dead-lettered as every webhook delivery is."""

from __future__ import annotations

import secrets
from typing import Any

from ...timeutil import now_iso

__all__ = ["bind_tx", "matches"]


def matches(channel: str, filter_type: str | None, event: dict[str, Any]) -> bool:
    """Whether a subscription's hook wants ``event``: its channel, and its filter (exact, or ``prefix.*``)."""
    if event["channel"] != channel:
        return False
    if not filter_type or filter_type == "*":
        return True
    if filter_type.endswith(".*"):
        return str(event["action"]).startswith(filter_type[:-1])
    return bool(event["action"] == filter_type)


def bind_tx(conn: Any, user_id: int, subscription_id: int, url: str | None, secret: str | None) -> dict[str, Any]:
    """Make the subscription's webhook row match ``url`` (none: removed). Returns the fields the
    subscribe answer adds: ``webhook_id``, and ``secret`` when this call set it (shown once)."""
    row = conn.execute(
        "SELECT id, url FROM webhooks WHERE subscription_id = ? AND user_id = ?", (subscription_id, user_id)
    ).fetchone()
    if url is None:
        if row is not None:
            conn.execute("DELETE FROM webhooks WHERE id = ?", (row["id"],))
        return {"webhook_id": None}
    if row is None:
        secret = secret or secrets.token_hex(32)
        cur = conn.execute(
            "INSERT INTO webhooks (user_id, url, events, secret, created_at, subscription_id)"
            " VALUES (?, ?, '[\"*\"]', ?, ?, ?)",
            (user_id, url, secret, now_iso(), subscription_id),
        )
        return {"webhook_id": int(cur.lastrowid), "secret": secret}
    conn.execute("UPDATE webhooks SET url = ?, is_active = 1 WHERE id = ?", (url, row["id"]))
    if secret:
        conn.execute("UPDATE webhooks SET secret = ? WHERE id = ?", (secret, row["id"]))
        return {"webhook_id": row["id"], "secret": secret}
    return {"webhook_id": row["id"]}
