"""Webhook registrations, the in-transaction enqueue of deliveries and the retrying sender.

Every axon event of a user (memory events on the ``system`` channel included) is matched against the
user's active webhooks inside the event's own transaction: a matching hook gets a ``queued`` delivery
row then and there, so an acknowledged event always has its deliveries, restart or crash. The sender
claims due rows (``sending``), POSTs them, and marks them ``delivered``, or ``queued`` again after
``retry_base * 2**(attempts-1)`` seconds, or ``dead`` after ``webhook_max_attempts`` tries (the claim and
retry rules are the job queue's: ``engram_core.jobs.durable``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
from datetime import UTC, datetime
from typing import Any

import httpx

from ...auth.context import AuthContext
from ...errors import Invalid
from ...jobs.durable import claim_tx, drain, requeue_claimed, retry_after, work_loop
from ...settings import Settings
from ...storage.database import Database
from ...storage.owned import owned_row
from ...timeutil import now_iso
from ...validation import Field, Schema
from ..ssrf import URL_SCHEMA, check_url, pinned_client
from .sender import Outcome, send
from .subscriptions import matches as subscription_matches

__all__ = ["DEAD_LETTERS", "HOOK", "TEST", "WebhookService"]

log = logging.getLogger("engram.webhooks")

HOOK = Schema(
    Field("url", "text", required=True, max_len=500, help="http(s) URL; no private hosts.", schema=URL_SCHEMA),
    Field("events", "str_list", default=["*"], max_items=50, help="Event names (axon actions); * for all."),
    Field("secret", "str", max_len=200, help="HMAC secret; generated (and returned once) when omitted."),
    description="Register a webhook.",
)
TEST = Schema(Field("event", "text", default="test", max_len=200), description="Send one test delivery now.")
DEAD_LETTERS = Schema(Field("limit", "int", default=50, min=1, max=200))


def _hook_dict(r: Any) -> dict[str, Any]:
    return {
        "id": r["id"],
        "user_id": r["user_id"],
        "url": r["url"],
        "events": json.loads(r["events"]),
        "has_secret": bool(r["secret"]),
        "is_active": bool(r["is_active"]),
        "failure_count": r["failure_count"],
        "last_triggered_at": r["last_triggered_at"],
        "created_at": r["created_at"],
        "subscription_id": r["subscription_id"],
    }


def _delivery_dict(r: Any) -> dict[str, Any]:
    keys = ("id", "webhook_id", "event", "payload", "status", "attempts", "last_error", "last_status_code")
    return {**{k: r[k] for k in keys}, "created_at": r["created_at"], "updated_at": r["updated_at"]}


class WebhookService:
    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings
        self._client: httpx.AsyncClient | None = None
        self._task: asyncio.Task[None] | None = None
        self._wake: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.sent = 0

    # -- enqueue (inside the event's transaction) ----------------------------------------------------
    def enqueue_tx(self, conn: Any, event: dict[str, Any]) -> None:
        hooks = conn.execute(
            "SELECT w.id, w.events, w.subscription_id, s.channel, s.filter_type FROM webhooks w LEFT JOIN"
            " axon_subscriptions s ON s.id = w.subscription_id WHERE w.user_id = ? AND w.is_active = 1",
            (event["user_id"],),
        ).fetchall()
        now = now_iso()
        for hook in hooks:
            if hook["subscription_id"] is not None:
                if not subscription_matches(hook["channel"], hook["filter_type"], event):
                    continue
            else:
                wanted = json.loads(hook["events"])
                if "*" not in wanted and event["action"] not in wanted and f"{event['channel']}.*" not in wanted:
                    continue
            conn.execute(
                "INSERT INTO webhook_deliveries (user_id, webhook_id, event, payload, run_after, created_at,"
                " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (event["user_id"], hook["id"], event["action"], json.dumps(event, ensure_ascii=False), now, now, now),
            )

    def committed(self, events: list[dict[str, Any]]) -> None:
        self.wake()

    def wake(self) -> None:
        if self._loop is not None and self._wake is not None:
            self._loop.call_soon_threadsafe(self._wake.set)

    # -- routes ---------------------------------------------------------------------------------------
    async def create(self, auth: AuthContext, body: Any) -> dict[str, Any]:
        q = HOOK.parse(body)
        await check_url(q["url"], "url", allow_private=self.settings.webhook_allow_private)
        events = q["events"] or ["*"]
        secret = q["secret"] or secrets.token_hex(32)

        def tx(conn: Any) -> dict[str, Any]:
            cur = conn.execute(
                "INSERT INTO webhooks (user_id, url, events, secret, created_at) VALUES (?, ?, ?, ?, ?)",
                (auth.user_id, q["url"], json.dumps(events), secret, now_iso()),
            )
            row = owned_row(conn, "webhooks", auth.user_id, int(cur.lastrowid), "webhook")
            return {"created": True, **_hook_dict(row), "secret": secret}

        return await self.db.awrite(tx)

    async def hooks(self, auth: AuthContext) -> dict[str, Any]:
        sql = (
            "SELECT w.*, (SELECT count(*) FROM webhook_deliveries d WHERE d.webhook_id = w.id AND d.status"
            " IN ('queued', 'sending')) AS pending, (SELECT count(*) FROM webhook_deliveries d WHERE"
            " d.webhook_id = w.id AND d.status = 'dead') AS dead FROM webhooks w WHERE w.user_id = ? ORDER BY w.id"
        )
        rows = await self.db.aread(lambda c: c.execute(sql, (auth.user_id,)).fetchall())
        hooks = [{**_hook_dict(r), "pending": r["pending"], "dead_letters": r["dead"]} for r in rows]
        return {"webhooks": hooks, "count": len(hooks)}

    async def delete(self, auth: AuthContext, hook_id: int) -> dict[str, Any]:
        def tx(conn: Any) -> dict[str, Any]:
            hook = owned_row(conn, "webhooks", auth.user_id, hook_id, "webhook")
            conn.execute("DELETE FROM webhooks WHERE id = ?", (hook_id,))
            if hook["subscription_id"] is not None:  # the subscription stays, without its URL
                conn.execute(
                    "UPDATE axon_subscriptions SET webhook_url = NULL WHERE id = ? AND user_id = ?",
                    (hook["subscription_id"], auth.user_id),
                )
            return {"deleted": True, "id": hook_id}

        return await self.db.awrite(tx)

    async def test(self, auth: AuthContext, hook_id: int, body: Any) -> dict[str, Any]:
        """Send one delivery now (not queued, not retried) and report what the target answered."""
        q = TEST.parse(body)
        hook = await self.db.aread(lambda c: owned_row(c, "webhooks", auth.user_id, hook_id, "webhook"))
        data = {"test": True, "webhook_id": hook_id}
        out = await self._send(hook["url"], hook["secret"], None, q["event"], data)
        return {
            "hook_id": hook_id,
            "event": q["event"],
            "url": hook["url"],
            "dispatched": out.ok,
            "status_code": out.status_code,
            "latency_ms": round(out.latency_ms, 2),
            "error": out.error,
        }

    async def dead_letters(self, auth: AuthContext, hook_id: int | None, query: Any) -> dict[str, Any]:
        q = DEAD_LETTERS.parse(query)

        def run(conn: Any) -> list[Any]:
            sql, args = "SELECT * FROM webhook_deliveries WHERE user_id = ? AND status = 'dead'", [auth.user_id]
            if hook_id is not None:
                owned_row(conn, "webhooks", auth.user_id, hook_id, "webhook")
                sql += " AND webhook_id = ?"
                args.append(hook_id)
            return list(conn.execute(sql + " ORDER BY id DESC LIMIT ?", (*args, q["limit"])).fetchall())

        letters = [_delivery_dict(r) for r in await self.db.aread(run)]
        return {"dead_letters": letters, "count": len(letters), "webhook_id": hook_id}

    async def redeliver(self, auth: AuthContext, delivery_id: int) -> dict[str, Any]:
        """Queue a dead letter again (attempts start over)."""

        def tx(conn: Any) -> dict[str, Any]:
            row = owned_row(conn, "webhook_deliveries", auth.user_id, delivery_id, "delivery")
            if row["status"] != "dead":
                raise Invalid("id", f"delivery {delivery_id} is {row['status']}, only dead letters are retried")
            now = now_iso()
            conn.execute(
                "UPDATE webhook_deliveries SET status = 'queued', attempts = 0, run_after = ?, updated_at = ?"
                " WHERE id = ?",
                (now, now, delivery_id),
            )
            return _delivery_dict(owned_row(conn, "webhook_deliveries", auth.user_id, delivery_id, "delivery"))

        result = await self.db.awrite(tx)
        self.wake()
        return result

    # -- the sender -----------------------------------------------------------------------------------
    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self._client = pinned_client(allow_private=self.settings.webhook_allow_private)
        await requeue_claimed(self.db, "webhook_deliveries", "sending")
        self._task = asyncio.create_task(self._run(), name="engram-webhooks")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def _send(self, url: str, secret: str, delivery_id: int | None, event: str, data: Any) -> Outcome:
        try:  # checked again at each send: a name re-pointed at a private address is refused then
            await check_url(url, "url", allow_private=self.settings.webhook_allow_private, must_resolve=True)
        except Invalid as exc:
            return Outcome(False, None, exc.message, 0.0)
        assert self._client is not None, "webhook sender not started"
        return await send(self._client, url, secret, delivery_id, event, data, self.settings.webhook_timeout_seconds)

    async def _claim(self) -> list[Any]:
        def tx(conn: Any) -> list[Any]:
            rows = conn.execute(
                "SELECT d.*, w.url, w.secret FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id"
                " WHERE d.status = 'queued' AND d.run_after <= ? ORDER BY d.run_after, d.id LIMIT ?",
                (now_iso(), self.settings.webhook_concurrency * 8),
            ).fetchall()
            return claim_tx(conn, "webhook_deliveries", "sending", rows)

        return await self.db.awrite(tx)

    async def _next_due(self) -> float:
        sql = "SELECT min(run_after) FROM webhook_deliveries WHERE status = 'queued'"
        due = await self.db.aread(lambda c: c.execute(sql).fetchone()[0])
        if due is None:
            return 5.0
        wait = (datetime.fromisoformat(due.replace("Z", "+00:00")) - datetime.now(UTC)).total_seconds()
        return min(5.0, max(0.0, wait))

    async def _run(self) -> None:
        assert self._wake is not None
        await work_loop(self._wake, self._claim, self._deliver, concurrency=self.settings.webhook_concurrency,
                        idle_wait=self._next_due, log=log, what="webhook deliveries")  # fmt: skip

    async def _deliver(self, row: Any) -> None:
        event = json.loads(row["payload"])
        out = await self._send(row["url"], row["secret"], row["id"], row["event"], event)
        attempts = row["attempts"] + 1
        now = now_iso()
        if out.ok:
            self.sent += 1

            def done(conn: Any) -> None:
                conn.execute(
                    "UPDATE webhook_deliveries SET status = 'delivered', last_status_code = ?, last_error = NULL,"
                    " updated_at = ? WHERE id = ?",
                    (out.status_code, now, row["id"]),
                )
                conn.execute(
                    "UPDATE webhooks SET failure_count = 0, last_triggered_at = ? WHERE id = ?",
                    (now, row["webhook_id"]),
                )

            await self.db.awrite(done)
            return
        retry = retry_after(
            attempts,
            base_delay=self.settings.webhook_retry_base_seconds,
            max_attempts=self.settings.webhook_max_attempts,
        )
        log.info("webhook delivery %s failed (attempt %s): %s", row["id"], attempts, out.error)

        def failed(conn: Any) -> None:
            conn.execute(
                "UPDATE webhook_deliveries SET status = ?, run_after = ?, last_error = ?, last_status_code = ?,"
                " updated_at = ? WHERE id = ?",
                ("dead" if retry.final else "queued", retry.run_after, out.error, out.status_code, now, row["id"]),
            )
            conn.execute(
                "UPDATE webhooks SET failure_count = failure_count + 1, last_triggered_at = ? WHERE id = ?",
                (now, row["webhook_id"]),
            )

        await self.db.awrite(failed)

    async def drain(self, timeout: float = 30.0) -> None:
        """Wait until no delivery is due (tests and benchmarks)."""
        await drain(self.db, "webhook_deliveries", "sending", self.wake, timeout, "webhook deliveries")
