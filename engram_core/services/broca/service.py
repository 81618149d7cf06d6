"""The action log: log (with a ``broca.<action>`` event on the ``broca`` channel), list, the narrated
feed, questions answered by searching the log, and stats."""

from __future__ import annotations

from typing import Any

from ...auth.context import AuthContext
from ...errors import LlmUnavailable
from ...llm.client import LlmClient
from ...storage.database import Database
from ...storage.owned import owned_row
from ...timeutil import now_iso
from ...validation import Field, Schema
from ..axon import AxonService, Publisher
from ..common import filters, json_dump, row_dict
from .narrate import answer, narrate

__all__ = ["ACTION", "ACTIONS", "ASK", "FEED", "ActionLog", "log_tx"]

ACTION = Schema(
    Field("agent", "text", required=True, max_len=200),
    Field("service", "str", default="engram", max_len=200),
    Field("action", "str", default="unknown", max_len=200),
    Field("target", "str", default="", max_len=1000),
    Field("outcome", "str", default="", max_len=2000),
    Field("narrative", "str", max_len=4000, aliases=("summary", "detail")),
    Field("payload", "object", aliases=("metadata",)),
    Field("project", "str", max_len=200),
    Field("axon_event_id", "int", min=0),
    description="Log one action: who (agent), what (action), to what (target), with which outcome.",
)
ACTIONS = Schema(
    Field("agent", "str", max_len=200),
    Field("service", "str", max_len=200),
    Field("action", "str", max_len=200),
    Field("since", "timestamp"),
    Field("limit", "int", default=100, min=1, max=1000),
    Field("offset", "int", default=0, min=0),
)
FEED = Schema(
    Field("agent", "str", max_len=200),
    Field("since", "timestamp"),
    Field("limit", "int", default=50, min=1, max=1000),
    Field("offset", "int", default=0, min=0),
)
ASK = Schema(
    Field("question", "text", required=True, max_len=2000, aliases=("query", "q")),
    Field("limit", "int", default=10, min=1, max=100),
    description="A question over the action log, answered by searching it.",
)
_SCAN = 5000  # most recent actions a question is matched against


def log_tx(conn: Any, pub: Publisher, user_id: int, q: dict[str, Any]) -> dict[str, Any]:
    payload = dict(q["payload"] or {})
    if q["project"]:
        payload["project"] = q["project"]
    narrative = q["narrative"] or narrate(q["agent"], q["action"], q["target"], q["outcome"], q["service"])
    event_id = q["axon_event_id"]
    if event_id is None:
        summary = {"agent": q["agent"], "action": q["action"], "narrative": narrative}
        event = pub.publish(user_id, "broca", f"broca.{q['action']}", summary, q["agent"])
        event_id = event["id"]
    cur = conn.execute(
        "INSERT INTO broca_actions (user_id, agent, service, action, target, outcome, payload, narrative,"
        " axon_event_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (user_id, q["agent"], q["service"], q["action"], q["target"], q["outcome"], json_dump(payload), narrative,
         event_id, now_iso()),
    )  # fmt: skip
    return row_dict(owned_row(conn, "broca_actions", user_id, int(cur.lastrowid), "action"), ("payload",))


class ActionLog:
    def __init__(self, db: Database, axon: AxonService, llm: LlmClient | None = None) -> None:
        self.db = db
        self.axon = axon
        self.llm = llm

    async def log(self, auth: AuthContext, body: Any) -> dict[str, Any]:
        q = ACTION.parse(body)
        return await self.axon.write(lambda conn, pub: log_tx(conn, pub, auth.user_id, q))

    async def _rows(self, auth: AuthContext, q: dict[str, Any]) -> list[Any]:
        cols = {"agent": "agent", "service": "service", "action": "action"}
        sql, args = filters("SELECT * FROM broca_actions", auth.user_id, q, cols)
        if q.get("since"):
            sql += " AND created_at >= ?"
            args.append(q["since"])
        sql += " ORDER BY id DESC LIMIT ? OFFSET ?"
        return await self.db.aread(lambda c: c.execute(sql, (*args, q["limit"], q["offset"])).fetchall())

    async def list(self, auth: AuthContext, query: Any) -> dict[str, Any]:
        rows = await self._rows(auth, ACTIONS.parse(query))
        return {"actions": [row_dict(r, ("payload",)) for r in rows], "count": len(rows)}

    async def get(self, auth: AuthContext, action_id: int) -> dict[str, Any]:
        row = await self.db.aread(lambda c: owned_row(c, "broca_actions", auth.user_id, action_id, "action"))
        return row_dict(row, ("payload",))

    async def feed(self, auth: AuthContext, query: Any) -> dict[str, Any]:
        rows = await self._rows(auth, FEED.parse(query))
        items = [{"id": r["id"], "agent": r["agent"], "action": r["action"], "narrative": r["narrative"],
                  "text": f"{r['created_at'][:16].replace('T', ' ')} {r['narrative']}", "created_at": r["created_at"]}
                 for r in rows]  # fmt: skip
        return {"items": items, "count": len(items), "text": "\n".join(i["text"] for i in items)}

    async def ask(self, auth: AuthContext, body: Any) -> dict[str, Any]:
        q = ASK.parse(body)
        sql = "SELECT * FROM broca_actions WHERE user_id = ? ORDER BY id DESC LIMIT ?"
        rows = await self.db.aread(lambda c: c.execute(sql, (auth.user_id, _SCAN)).fetchall())
        text, hits = answer(q["question"], rows, q["limit"])
        matches = [{**row_dict(r, ("payload",)), "score": s} for s, r in hits]
        plan = None
        if hits and self.llm is not None and self.llm.configured:  # optional: the search answer stands without it
            log = "\n".join(f"{r['created_at'][:16]} {r['narrative']}" for _, r in hits)
            try:
                text = await self.llm.chat(
                    [
                        {
                            "role": "system",
                            "content": "Answer the question from these logged agent actions only; be brief.",
                        },
                        {"role": "user", "content": f"Actions:\n{log}\n\nQuestion: {q['question']}"},
                    ],
                    max_tokens=300,
                )
                plan = {"answered_by": "llm", "actions": [r["id"] for _, r in hits]}
            except LlmUnavailable:
                pass
        return {"answer": text, "plan": plan, "raw": matches, "matches": matches, "count": len(matches)}

    async def stats(self, auth: AuthContext) -> dict[str, Any]:
        def run(conn: Any) -> dict[str, Any]:
            def group(col: str) -> list[dict[str, Any]]:
                rows = conn.execute(f"SELECT {col}, count(*) AS n FROM broca_actions WHERE user_id = ? GROUP BY"
                                    f" {col} ORDER BY n DESC LIMIT 20", (auth.user_id,)).fetchall()  # fmt: skip
                return [{col: r[0], "count": r[1]} for r in rows]

            total = conn.execute("SELECT count(*) FROM broca_actions WHERE user_id = ?", (auth.user_id,)).fetchone()[0]
            by_agent, by_service = group("agent"), group("service")
            return {"total_actions": total, "total": total, "agents": len(by_agent), "services": len(by_service),
                    "by_agent": by_agent, "by_service": by_service, "by_action": group("action")}  # fmt: skip

        return await self.db.aread(run)
