"""``POST /activity``: one agent report fanned out, in one transaction, to chiasm (the agent's task for
the project), axon (an event on the channel the action names), broca (the action log), soma (the
agent's heartbeat) and thymus (``drift.detected`` with ``details.drift_type`` is a drift event,
``session.quality`` with ``details.session_id`` a session-quality record); then remembered as a memory
(its own transaction: the store pipeline's)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from ..auth.context import AuthContext
from ..errors import Invalid
from ..validation import Field, Schema
from .axon import AxonService, Publisher
from .broca.service import ACTION, log_tx
from .chiasm.service import TASK, create_tx, update_tx
from .thymus.drift import DRIFT_EVENT, SESSION_QUALITY, drift_tx, session_tx

__all__ = ["ACTIVITY", "ActivityService", "channel_for"]

Remember = Callable[[AuthContext, dict[str, Any]], Awaitable[Any]]
Heartbeat = Callable[[Any, int, str], int]
ACTIVITY = Schema(
    Field("agent", "text", required=True, max_len=100),
    Field("action", "text", required=True, max_len=100),
    Field("summary", "text", required=True, max_len=10000),
    Field("project", "str", default="", max_len=200),
    Field("details", "object", aliases=("metadata",)),
    Field("remember", "bool", default=True, help="Also store the report as a memory."),
    description="One agent report: task, event, action log and heartbeat in one transaction.",
)
_TASK_STATUS = {"task.completed": "completed", "task.blocked": "blocked", "task.paused": "paused",
                "task.cancelled": "cancelled", "task.started": "active", "task.resumed": "active"}  # fmt: skip


def channel_for(action: str) -> str:
    if action in {"task.blocked", "error.raised"}:
        return "alerts"
    if action.startswith("task."):
        return "tasks"
    if action.startswith(("drift.", "session.")):
        return "quality"
    return "system"


def _importance(action: str) -> int:
    return {"task.completed": 6, "task.blocked": 7, "error.raised": 7}.get(action, 4)


def _quality(q: dict[str, Any]) -> tuple[str, Callable[[Any, int, dict[str, Any]], dict[str, Any]], Any] | None:
    """The thymus record a report makes (checked before anything is written): a drift event for
    ``drift.detected`` whose details name a ``drift_type``, a session-quality record for ``session.quality``
    whose details name a ``session_id``; None for any other report."""
    details = q["details"] or {}
    try:
        if q["action"] == "drift.detected" and details.get("drift_type") is not None:
            fields = {"signal": q["summary"][:4000], **details, "agent": q["agent"]}
            return "drift_event_id", drift_tx, DRIFT_EVENT.parse(fields)
        if q["action"] == "session.quality" and details.get("session_id") is not None:
            return "session_quality_id", session_tx, SESSION_QUALITY.parse({**details, "agent": q["agent"]})
    except Invalid as exc:
        raise Invalid(f"details.{exc.field}" if exc.field else "details", exc.problem) from None
    return None


class ActivityService:
    def __init__(self, axon: AxonService, remember: Remember | None, heartbeat: Heartbeat | None) -> None:
        self.axon = axon
        self.remember = remember
        self.heartbeat = heartbeat

    async def report(self, auth: AuthContext, body: Any) -> dict[str, Any]:
        q = ACTIVITY.parse(body)
        user = auth.user_id
        quality = _quality(q)

        def tx(conn: Any, pub: Publisher) -> dict[str, Any]:
            payload = {"agent": q["agent"], "action": q["action"], "summary": q["summary"]}
            if q["project"]:
                payload["project"] = q["project"]
            if q["details"] is not None:
                payload["details"] = q["details"]
            event = pub.publish(user, channel_for(q["action"]), q["action"], payload, "activity")
            task_id = self._task(conn, pub, user, q)
            action = log_tx(conn, pub, user, ACTION.parse({
                "agent": q["agent"], "service": "activity", "action": q["action"], "target": q["project"],
                "narrative": f"{q['agent']}: {q['summary']}"[:4000], "payload": q["details"] or {},
                "axon_event_id": event["id"]}))  # fmt: skip
            agent_id = self.heartbeat(conn, user, q["agent"]) if self.heartbeat is not None else None
            out = {"event_id": event["id"], "action_id": action["id"], "task_id": task_id, "agent_id": agent_id}
            if quality is not None:
                key, write, fields = quality
                out[key] = write(conn, user, fields)["id"]
            return out

        out = await self.axon.write(tx)
        memory_id = None
        if q["remember"] and self.remember is not None:
            content = " ".join(p for p in (f"[{q['agent']}]", f"[{q['project']}]" if q["project"] else "",
                                           f"[{q['action']}]", q["summary"]) if p)  # fmt: skip
            category = "task" if q["action"].startswith("task.") else "activity"
            stored = await self.remember(auth, {"content": content, "category": category, "source": q["agent"],
                                                "importance": _importance(q["action"])})  # fmt: skip
            body_out = stored[1] if isinstance(stored, tuple) else stored
            memory_id = body_out.get("id") or body_out.get("existing_id")
        return {"ok": True, "memory_id": memory_id, **out}

    def _task(self, conn: Any, pub: Publisher, user: int, q: dict[str, Any]) -> int | None:
        action = q["action"]
        if not action.startswith("task."):
            return None
        status = _TASK_STATUS.get(action, "active")
        if action != "task.started":
            row = conn.execute(
                "SELECT id FROM tasks WHERE user_id = ? AND agent = ? AND project = ? AND status IN"
                " ('active', 'blocked', 'paused') ORDER BY updated_at DESC LIMIT 1",
                (user, q["agent"], q["project"]),
            ).fetchone()
            if row is not None:
                changed = {"status": status, "summary": q["summary"][:10000]}
                return int(update_tx(conn, pub, user, int(row["id"]), changed)["id"])
        fields = TASK.parse({"title": q["summary"][:1000], "agent": q["agent"], "project": q["project"],
                             "status": status, "summary": q["summary"]})  # fmt: skip
        return int(create_tx(conn, pub, user, fields)["id"])
