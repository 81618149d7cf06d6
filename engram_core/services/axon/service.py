"""axon: publish, list, channels, subscriptions, cursor polling and live streams.

``AxonService.write(fn)`` runs ``fn(conn, publisher)`` in one write transaction: the events it publishes
are rows of that transaction (in-transaction listeners, such as the webhook queue, add their rows
too) and reach live streams only after the COMMIT. Polling advances a stored cursor in the same
transaction that reads the events, so each event is handed out once per cursor advance, restart or not.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar

from ...auth.context import AuthContext
from ...errors import Invalid, NotFound
from ...settings import Settings
from ...storage.database import Database
from ...timeutil import now_iso
from ..ssrf import check_url
from ..webhooks.subscriptions import bind_tx as subscription_hook_tx
from .hub import Hub
from .schemas import CHANNEL, CURSOR, EVENTS, POLL, PUBLISH, STREAM, SUBSCRIBE, SUBSCRIPTIONS, UNSUBSCRIBE

__all__ = ["AxonService", "Publisher", "event_dict"]

T = TypeVar("T")
TxListener = Callable[[Any, dict[str, Any]], None]
REPLAY_PAGE = 500


def event_dict(r: Any) -> dict[str, Any]:
    """The public shape of an event row (``action`` and ``type`` name the same thing, as do ``source``
    and ``agent``: both reference servers' names)."""
    return {
        "id": r["id"],
        "channel": r["channel"],
        "action": r["type"],
        "type": r["type"],
        "payload": json.loads(r["payload"]),
        "source": r["source"],
        "agent": r["source"],
        "user_id": r["user_id"],
        "created_at": r["created_at"],
    }


class Publisher:
    """Publishes events inside one write transaction; they are delivered after its COMMIT."""

    def __init__(self, axon: AxonService, conn: Any) -> None:
        self.axon = axon
        self.conn = conn
        self.events: list[dict[str, Any]] = []

    def publish(self, user_id: int, channel: str, action: str, payload: Any, source: str) -> dict[str, Any]:
        event = self.axon.publish_tx(self.conn, user_id, channel, action, payload, source)
        self.events.append(event)
        return event


class AxonService:
    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings
        self.hub = Hub(settings.axon_stream_buffer)
        self._tx_listeners: list[TxListener] = []
        self._committed_listeners: list[Callable[[list[dict[str, Any]]], None]] = []

    # -- plumbing for the other services --------------------------------------------------------------
    def in_publish_tx(self, fn: TxListener) -> None:
        """Call ``fn(conn, event)`` inside the transaction of every published event (webhook queue)."""
        self._tx_listeners.append(fn)

    def on_committed(self, fn: Callable[[list[dict[str, Any]]], None]) -> None:
        """Call ``fn(events)`` on the event loop after the events' transaction committed."""
        self._committed_listeners.append(fn)

    def publish_tx(
        self, conn: Any, user_id: int, channel: str, action: str, payload: Any, source: str
    ) -> dict[str, Any]:
        """Insert one event in the caller's transaction (the channel is created on first use)."""
        body = json.dumps({} if payload is None else payload, ensure_ascii=False)
        if len(body.encode("utf-8")) > self.settings.axon_max_payload_bytes:
            raise Invalid("payload", f"is larger than {self.settings.axon_max_payload_bytes} bytes")
        now = now_iso()
        conn.execute(
            "INSERT OR IGNORE INTO axon_channels (user_id, name, created_at) VALUES (?, ?, ?)", (user_id, channel, now)
        )
        cur = conn.execute(
            "INSERT INTO axon_events (user_id, channel, type, payload, source, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            (user_id, channel, action, body, source, now),
        )
        event = {
            "id": int(cur.lastrowid),
            "channel": channel,
            "action": action,
            "type": action,
            "payload": json.loads(body),
            "source": source,
            "agent": source,
            "user_id": user_id,
            "created_at": now,
        }
        for fn in self._tx_listeners:
            fn(conn, event)
        return event

    async def write(self, fn: Callable[[Any, Publisher], T]) -> T:
        """Run ``fn(conn, publisher)`` in one write transaction; deliver its events after the COMMIT."""
        box: list[Publisher] = []

        def tx(conn: Any) -> T:
            pub = Publisher(self, conn)
            box.append(pub)
            return fn(conn, pub)

        result = await self.db.awrite(tx)
        self.committed(box[0].events)  # no await between the COMMIT and here: commit order is kept
        return result

    def committed(self, events: list[dict[str, Any]]) -> None:
        if not events:
            return
        self.hub.deliver(events)
        for fn in self._committed_listeners:
            fn(events)

    # -- routes -----------------------------------------------------------------------------------------
    async def publish(self, auth: AuthContext, body: Any) -> dict[str, Any]:
        q = PUBLISH.parse(body)
        source = q["source"] or q["agent"] or "unknown"
        return await self.write(
            lambda conn, pub: pub.publish(auth.user_id, q["channel"], q["action"], q["payload"], source)
        )

    async def events(self, auth: AuthContext, query: Any) -> dict[str, Any]:
        q = EVENTS.parse(query)
        sql, args = "SELECT * FROM axon_events WHERE user_id = ?", [auth.user_id]
        for col, key in (("channel", "channel"), ("type", "action"), ("source", "source")):
            if q[key]:
                sql += f" AND {col} = ?"
                args.append(q[key])
        if q["since_id"] is not None:
            sql += " AND id > ?"
            args.append(q["since_id"])
        rows = await self.db.aread(
            lambda c: c.execute(sql + " ORDER BY id DESC LIMIT ?", (*args, q["limit"])).fetchall()
        )
        events = [event_dict(r) for r in rows]
        return {"events": events, "count": len(events)}

    async def event(self, auth: AuthContext, event_id: int) -> dict[str, Any]:
        sql = "SELECT * FROM axon_events WHERE id = ? AND user_id = ?"
        row = await self.db.aread(lambda c: c.execute(sql, (event_id, auth.user_id)).fetchone())
        if row is None:
            raise NotFound(f"event {event_id} not found")
        return event_dict(row)

    async def channels(self, auth: AuthContext) -> dict[str, Any]:
        sql = (
            "SELECT c.*, (SELECT count(*) FROM axon_events e WHERE e.user_id = c.user_id AND e.channel = c.name)"
            " AS event_count, (SELECT count(*) FROM axon_subscriptions s WHERE s.user_id = c.user_id"
            " AND s.channel = c.name) AS subscriber_count FROM axon_channels c WHERE c.user_id = ? ORDER BY c.name"
        )
        rows = await self.db.aread(lambda c: c.execute(sql, (auth.user_id,)).fetchall())
        keys = ("id", "name", "description", "retain_hours", "created_at", "event_count", "subscriber_count")
        channels = [{k: r[k] for k in keys} for r in rows]
        return {"channels": channels, "count": len(channels)}

    async def create_channel(self, auth: AuthContext, body: Any) -> dict[str, Any]:
        q = CHANNEL.parse(body)

        def tx(conn: Any) -> dict[str, Any]:
            conn.execute(
                "INSERT INTO axon_channels (user_id, name, description, retain_hours, created_at) VALUES"
                " (?, ?, ?, ?, ?) ON CONFLICT (user_id, name) DO UPDATE SET description = excluded.description,"
                " retain_hours = excluded.retain_hours",
                (auth.user_id, q["name"], q["description"] or "", q["retain_hours"], now_iso()),
            )
            row = conn.execute(
                "SELECT * FROM axon_channels WHERE user_id = ? AND name = ?", (auth.user_id, q["name"])
            ).fetchone()
            keys = ("id", "name", "description", "retain_hours", "created_at")
            return {"ok": True, "channel": q["name"], **{k: row[k] for k in keys}}

        return await self.db.awrite(tx)

    async def subscribe(self, auth: AuthContext, body: Any) -> dict[str, Any]:
        """Upsert a subscription; with ``webhook_url`` the channel's events are also POSTed there through
        the webhook queue (signed with ``secret``, or a generated one returned by the call that made it)."""
        q = SUBSCRIBE.parse(body)
        if q["webhook_url"]:
            await check_url(q["webhook_url"], "webhook_url", allow_private=self.settings.webhook_allow_private)
        elif q["secret"]:
            raise Invalid("secret", "is only taken with a webhook_url")

        def tx(conn: Any) -> dict[str, Any]:
            conn.execute(
                "INSERT INTO axon_subscriptions (user_id, agent, channel, filter_type, webhook_url, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (user_id, agent, channel) DO UPDATE SET"
                " filter_type = excluded.filter_type, webhook_url = excluded.webhook_url",
                (auth.user_id, q["agent"], q["channel"], q["filter_type"], q["webhook_url"] or None, now_iso()),
            )
            row = conn.execute(
                "SELECT * FROM axon_subscriptions WHERE user_id = ? AND agent = ? AND channel = ?",
                (auth.user_id, q["agent"], q["channel"]),
            ).fetchone()
            hook = subscription_hook_tx(conn, auth.user_id, row["id"], row["webhook_url"], q["secret"])
            return {**dict(row), **hook}

        return await self.db.awrite(tx)

    async def unsubscribe(self, auth: AuthContext, body: Any) -> dict[str, Any]:
        q = UNSUBSCRIBE.parse(body)
        sql = "DELETE FROM axon_subscriptions WHERE user_id = ? AND agent = ? AND channel = ?"
        cur = await self.db.awrite(lambda c: c.execute(sql, (auth.user_id, q["agent"], q["channel"])))
        return {"ok": True, "deleted": bool(cur.rowcount)}

    async def subscriptions(self, auth: AuthContext, query: Any) -> dict[str, Any]:
        q = SUBSCRIPTIONS.parse(query)
        sql = (
            "SELECT s.*, w.id AS webhook_id FROM axon_subscriptions s LEFT JOIN webhooks w"
            " ON w.subscription_id = s.id AND w.user_id = s.user_id WHERE s.user_id = ?"
        )
        args: list[Any] = [auth.user_id]
        if q["agent"]:
            sql += " AND s.agent = ?"
            args.append(q["agent"])
        rows = await self.db.aread(lambda c: c.execute(sql + " ORDER BY s.id", args).fetchall())
        subs = [dict(r) for r in rows]
        return {"subscriptions": subs, "count": len(subs)}

    async def poll(self, auth: AuthContext, body: Any) -> dict[str, Any]:
        """Events after the cursor, ascending. With ``cursor`` given: read after it, nothing stored.
        Otherwise the agent's stored cursor is read and advanced in the same transaction."""
        q = POLL.parse(body)
        channel_key = q["channel"] or "*"

        def tx(conn: Any) -> dict[str, Any]:
            after = q["cursor"]
            if after is None:
                row = conn.execute(
                    "SELECT last_event_id FROM axon_cursors WHERE user_id = ? AND agent = ? AND channel = ?",
                    (auth.user_id, q["agent"], channel_key),
                ).fetchone()
                after = row[0] if row else 0
            sql, args = "SELECT * FROM axon_events WHERE user_id = ? AND id > ?", [auth.user_id, after]
            if q["channel"]:
                sql += " AND channel = ?"
                args.append(q["channel"])
            rows = conn.execute(sql + " ORDER BY id LIMIT ?", (*args, q["limit"])).fetchall()
            cursor = rows[-1]["id"] if rows else after
            if q["cursor"] is None and rows:
                conn.execute(
                    "INSERT INTO axon_cursors (user_id, agent, channel, last_event_id, updated_at) VALUES"
                    " (?, ?, ?, ?, ?) ON CONFLICT (user_id, agent, channel) DO UPDATE SET"
                    " last_event_id = excluded.last_event_id, updated_at = excluded.updated_at",
                    (auth.user_id, q["agent"], channel_key, cursor, now_iso()),
                )
            events = [event_dict(r) for r in rows]
            return {"events": events, "cursor": cursor, "count": len(events)}

        return await self.db.awrite(tx)

    async def cursor(self, auth: AuthContext, query: Any) -> dict[str, Any]:
        q = CURSOR.parse(query)
        channel = q["channel"] or "*"
        sql = "SELECT * FROM axon_cursors WHERE user_id = ? AND agent = ? AND channel = ?"
        row = await self.db.aread(lambda c: c.execute(sql, (auth.user_id, q["agent"], channel)).fetchone())
        return {
            "agent": q["agent"],
            "channel": channel,
            "last_event_id": row["last_event_id"] if row else 0,
            "updated_at": row["updated_at"] if row else "",
            "user_id": auth.user_id,
        }

    async def stats(self, auth: AuthContext) -> dict[str, Any]:
        def run(conn: Any) -> dict[str, Any]:
            def one(sql: str) -> int:
                return int(conn.execute(sql, (auth.user_id,)).fetchone()[0])

            total = one("SELECT count(*) FROM axon_events WHERE user_id = ?")
            return {
                "total_events": total,
                "events": total,
                "channels": one("SELECT count(*) FROM axon_channels WHERE user_id = ?"),
                "sources": one("SELECT count(DISTINCT source) FROM axon_events WHERE user_id = ?"),
                "subscriptions": one("SELECT count(*) FROM axon_subscriptions WHERE user_id = ?"),
            }

        return {**await self.db.aread(run), "sse_clients": self.hub.count(auth.user_id)}

    async def prune(self) -> int:
        """Drop events older than their channel's ``retain_hours`` (periodic)."""
        from datetime import UTC, datetime, timedelta

        from ...timeutil import format_ts

        def tx(conn: Any) -> int:
            removed = 0
            for hours in [r[0] for r in conn.execute("SELECT DISTINCT retain_hours FROM axon_channels")]:
                cutoff = format_ts(datetime.now(UTC) - timedelta(hours=hours))
                removed += conn.execute(
                    "DELETE FROM axon_events WHERE created_at < ? AND EXISTS (SELECT 1 FROM axon_channels c"
                    " WHERE c.user_id = axon_events.user_id AND c.name = axon_events.channel AND c.retain_hours = ?)",
                    (cutoff, hours),
                ).rowcount
            return removed

        return await self.db.awrite(tx)

    # -- live stream ------------------------------------------------------------------------------------
    def stream_params(self, query: Any, last_event_id: str | None) -> tuple[frozenset[str] | None, int | None]:
        q = STREAM.parse(query)
        channels = frozenset(q["channels"]) if q["channels"] else None
        last = q["last_event_id"]
        if last_event_id is not None and last_event_id.strip():
            if not last_event_id.strip().isdigit():
                raise Invalid("Last-Event-ID", "must be an event id")
            last = int(last_event_id.strip())
        return channels, last

    async def head(self, auth: AuthContext) -> int:
        """The caller's newest event id (0 if none): where a stream without Last-Event-ID starts."""
        sql = "SELECT coalesce(max(id), 0) FROM axon_events WHERE user_id = ?"
        return int(await self.db.aread(lambda c: c.execute(sql, (auth.user_id,)).fetchone()[0]))

    async def stream(
        self, auth: AuthContext, channels: frozenset[str] | None, last_id: int
    ) -> AsyncIterator[list[dict[str, Any]] | None]:
        """Batches of events after ``last_id``: first from the table, then live ones (a batch is what
        arrived while the client took the last one, so a busy stream needs fewer writes); ``None`` items
        are heartbeats. Ends when the subscriber is dropped for falling ``axon_stream_buffer`` behind."""
        sub = self.hub.add(auth.user_id, channels)  # before the replay read: nothing falls in between
        try:
            while True:
                page = await self._replay(auth.user_id, channels, last_id)
                if page:
                    yield page
                    last_id = page[-1]["id"]
                if len(page) < REPLAY_PAGE:
                    break
            beat = self.settings.axon_heartbeat_seconds
            while not sub.dropped:
                try:
                    batch = [await asyncio.wait_for(sub.queue.get(), timeout=beat)]
                except TimeoutError:
                    yield None
                    continue
                while not sub.queue.empty() and len(batch) < REPLAY_PAGE:
                    batch.append(sub.queue.get_nowait())
                fresh = [e for e in batch if e["id"] > last_id]  # older ones were replayed already
                if fresh:
                    yield fresh
                    last_id = fresh[-1]["id"]
        finally:
            self.hub.remove(sub)

    async def _replay(self, user_id: int, channels: frozenset[str] | None, after: int) -> list[dict[str, Any]]:
        sql, args = "SELECT * FROM axon_events WHERE user_id = ? AND id > ?", list[Any]([user_id, after])
        if channels is not None:
            sql += f" AND channel IN ({','.join('?' * len(channels))})"
            args.extend(sorted(channels))
        rows = await self.db.aread(lambda c: c.execute(sql + " ORDER BY id LIMIT ?", (*args, REPLAY_PAGE)).fetchall())
        return [event_dict(r) for r in rows]
