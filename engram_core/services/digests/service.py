"""Digests: what a user's memories and agents did in a period (day, week, month), as Markdown.

The digest counts and lists the period's memories (most important first), tasks opened and completed,
logged actions by agent and events by channel; with the optional LLM configured, a short paragraph it
writes from those facts comes first (without it, or when it fails, the facts alone). Each digest is a
row and a ``digest.generated`` event on the ``digests`` channel in the same transaction, so a webhook
for ``digest.generated`` delivers it. ``ENGRAM_DIGEST_INTERVAL_SECONDS`` runs daily digests on a schedule
for every user with something new in the last day.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from ...auth.context import AuthContext
from ...errors import LlmUnavailable
from ...llm.client import LlmClient
from ...storage.database import Database
from ...storage.owned import owned_row
from ...timeutil import format_ts, now_iso
from ...validation import Field, Schema
from ..axon import AxonService, Publisher
from ..common import json_dump, row_dict

__all__ = ["DIGESTS", "GENERATE", "Digests"]

log = logging.getLogger("engram.services")
PERIODS = {"daily": 1, "weekly": 7, "monthly": 30}
GENERATE = Schema(Field("period", "str", default="daily", choices=tuple(PERIODS)), description="Make a digest now.")
DIGESTS = Schema(Field("limit", "int", default=20, min=1, max=500))


def _facts(conn: Any, user_id: int, start: str, end: str) -> dict[str, Any]:
    span = (user_id, start, end)
    mems = conn.execute(
        "SELECT id, content, category, importance FROM memories WHERE user_id = ? AND created_at >= ? AND"
        " created_at < ? AND is_latest = 1 AND is_deleted = 0 ORDER BY importance DESC, id DESC",
        span,
    ).fetchall()
    by_cat: dict[str, int] = {}
    for m in mems:
        by_cat[m["category"]] = by_cat.get(m["category"], 0) + 1
    opened = conn.execute(
        "SELECT count(*) FROM tasks WHERE user_id = ? AND created_at >= ? AND created_at < ?", span
    ).fetchone()[0]
    done = conn.execute(
        "SELECT title, agent FROM tasks WHERE user_id = ? AND status = 'completed' AND updated_at"
        " >= ? AND updated_at < ? ORDER BY updated_at DESC",
        span,
    ).fetchall()
    actions = conn.execute(
        "SELECT agent, count(*) AS n FROM broca_actions WHERE user_id = ? AND created_at >= ? AND"
        " created_at < ? GROUP BY agent ORDER BY n DESC",
        span,
    ).fetchall()
    events = conn.execute(
        "SELECT channel, count(*) AS n FROM axon_events WHERE user_id = ? AND created_at >= ? AND"
        " created_at < ? GROUP BY channel ORDER BY n DESC",
        span,
    ).fetchall()
    return {
        "memory_count": len(mems),
        "memories_by_category": by_cat,
        "top_memories": [
            {"id": m["id"], "content": m["content"][:200], "importance": m["importance"]} for m in mems[:5]
        ],
        "tasks_opened": opened,
        "tasks_completed": [{"title": t["title"], "agent": t["agent"]} for t in done[:10]],
        "actions_by_agent": {a["agent"]: a["n"] for a in actions},
        "events_by_channel": {e["channel"]: e["n"] for e in events},
    }


def render(period: str, start: str, end: str, f: dict[str, Any], summary: str | None) -> str:
    lines = [f"# {period.capitalize()} digest, {start[:10]} to {end[:10]}", ""]
    if summary:
        lines += [summary.strip(), ""]
    cats = ", ".join(f"{n} {c}" for c, n in sorted(f["memories_by_category"].items(), key=lambda x: -x[1]))
    lines.append(f"- {f['memory_count']} new memories" + (f" ({cats})" if cats else ""))
    lines += [f"  - [{m['importance']}] {m['content']}" for m in f["top_memories"]]
    lines.append(f"- {f['tasks_opened']} tasks opened, {len(f['tasks_completed'])} completed")
    lines += [f"  - done: {t['title']}" + (f" ({t['agent']})" if t["agent"] else "") for t in f["tasks_completed"]]
    acts = ", ".join(f"{a} {n}" for a, n in f["actions_by_agent"].items())
    lines.append(f"- {sum(f['actions_by_agent'].values())} logged actions" + (f" ({acts})" if acts else ""))
    evs = ", ".join(f"{c} {n}" for c, n in f["events_by_channel"].items())
    lines.append(f"- {sum(f['events_by_channel'].values())} events" + (f" ({evs})" if evs else ""))
    return "\n".join(lines) + "\n"


class Digests:
    def __init__(self, db: Database, axon: AxonService, llm: LlmClient | None) -> None:
        self.db = db
        self.axon = axon
        self.llm = llm

    async def generate(self, auth: AuthContext, body: Any) -> dict[str, Any]:
        return await self.make(auth.user_id, GENERATE.parse(body)["period"])

    async def make(self, user_id: int, period: str) -> dict[str, Any]:
        end_dt = datetime.now(UTC)
        start, end = format_ts(end_dt - timedelta(days=PERIODS[period])), format_ts(end_dt)
        facts = await self.db.aread(lambda c: _facts(c, user_id, start, end))
        summary = await self._summary(period, facts)
        content = render(period, start, end, facts, summary)

        def tx(conn: Any, pub: Publisher) -> dict[str, Any]:
            cur = conn.execute(
                "INSERT INTO digests (user_id, period, content, memory_count, stats, started_at,"
                " ended_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (user_id, period, content, facts["memory_count"], json_dump(facts), start, end, now_iso()),
            )
            digest = row_dict(owned_row(conn, "digests", user_id, int(cur.lastrowid), "digest"), ("stats",))
            pub.publish(
                user_id,
                "digests",
                "digest.generated",
                {k: digest[k] for k in ("id", "period", "content", "memory_count", "started_at", "ended_at")},
                "digests",
            )
            return digest

        return await self.axon.write(tx)

    async def _summary(self, period: str, facts: dict[str, Any]) -> str | None:
        if self.llm is None or not self.llm.configured or not facts["memory_count"] + facts["tasks_opened"]:
            return None
        try:
            return await self.llm.chat(
                [
                    {
                        "role": "system",
                        "content": "Summarise this period for the person whose agents did the work, in"
                        " at most four sentences, from these facts only.",
                    },
                    {"role": "user", "content": json.dumps({"period": period, **facts})[:12000]},
                ],
                max_tokens=300,
            )
        except LlmUnavailable:
            return None

    async def list(self, auth: AuthContext, query: Any) -> dict[str, Any]:
        q = DIGESTS.parse(query)
        sql = "SELECT * FROM digests WHERE user_id = ? ORDER BY id DESC LIMIT ?"
        rows = await self.db.aread(lambda c: c.execute(sql, (auth.user_id, q["limit"])).fetchall())
        return {"digests": [row_dict(r, ("stats",)) for r in rows], "count": len(rows)}

    async def scheduled(self) -> int:
        """Periodic: a daily digest for each user with new memories or events since their last digest."""
        since = format_ts(datetime.now(UTC) - timedelta(days=1))
        users = await self.db.aread(
            lambda c: [
                r[0]
                for r in c.execute(
                    "SELECT DISTINCT user_id FROM memories WHERE created_at >= ?1 AND NOT EXISTS"
                    " (SELECT 1 FROM digests d WHERE d.user_id = memories.user_id AND d.created_at >= ?1)",
                    (since,),
                )
            ]
        )
        for user_id in users:
            try:
                await self.make(int(user_id), "daily")
            except Exception:
                log.exception("scheduled digest for user %s failed", user_id)
        return len(users)
