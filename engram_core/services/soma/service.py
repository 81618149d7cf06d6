"""Agents (upserted by name), heartbeats, capability search, groups, and the periodic offline marking:
an ``online`` agent without a heartbeat for ``ENGRAM_SOMA_OFFLINE_SECONDS`` becomes ``offline`` and an
``agent.offline`` event is published on the ``agents`` channel."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from ...auth.context import AuthContext
from ...errors import Conflict
from ...settings import Settings
from ...storage.database import Database
from ...storage.owned import owned_row
from ...timeutil import format_ts, now_iso
from ...validation import Field, Schema
from ..axon import AxonService, Publisher
from ..common import json_dump, row_dict

__all__ = [
    "AGENT",
    "AGENT_LIST",
    "AGENT_UPDATE",
    "GROUP",
    "HEARTBEAT",
    "LOG",
    "LOGS",
    "MEMBER",
    "QUALITY",
    "SEARCH",
    "STALE",
    "AgentRegistry",
]

STATUSES = ("pending", "online", "offline", "error")
AGENT = Schema(
    Field("name", "text", required=True, max_len=200),
    Field("type", "text", default="agent", max_len=100, aliases=("agent_type", "category")),
    Field("description", "str", default="", max_len=4000),
    Field("capabilities", "str_list", default=[], max_items=100),
    Field("config", "object"),
    description="Register an agent (upserts by name).",
)
AGENT_UPDATE = Schema(
    Field("status", "str", choices=STATUSES),
    Field("type", "text", max_len=100, aliases=("agent_type",)),
    Field("description", "str", max_len=4000),
    Field("capabilities", "str_list", max_items=100),
    Field("config", "object"),
    Field("quality_score", "float", min=0, max=1),
    description="Change an agent (only the fields given).",
)
QUALITY = Schema(
    Field("quality_score", "float", required=True, min=0, max=1, aliases=("qualityScore",)),
    Field("drift_flags", "str_list", max_items=100, aliases=("driftFlags",), help="Omitted: kept as they are."),
    description="Set an agent's quality score (0-1) and, if given, its drift flags.",
)
AGENT_LIST = Schema(
    Field("type", "str", max_len=100, aliases=("agent_type",)),
    Field("status", "str", choices=STATUSES),
    Field("capability", "str", max_len=200),
    Field("limit", "int", default=100, min=1, max=1000),
)
SEARCH = Schema(Field("capability", "text", required=True, max_len=200), Field("status", "str", choices=STATUSES))
HEARTBEAT = Schema(Field("status", "str", choices=("online", "error")), description="A heartbeat (optional status).")
GROUP = Schema(Field("name", "text", required=True, max_len=200), Field("description", "str", default="",
               max_len=4000), description="Create a group of agents.")  # fmt: skip
MEMBER = Schema(Field("agent_id", "int", required=True, min=1), description="Add an agent to the group.")
LOG_LEVELS = ("debug", "info", "warn", "error")
LOG = Schema(
    Field("level", "str", default="info", choices=LOG_LEVELS),
    Field("message", "text", required=True, max_len=10_000),
    Field("data", "object", help="Any JSON object (default {})."),
    description="Append an entry to the agent's log.",
)
LOGS = Schema(Field("level", "str", choices=LOG_LEVELS), Field("limit", "int", default=100, min=1, max=1000))
STALE = Schema(Field("minutes", "float", min=0.01, max=525_600, help="Silent for longer than this (default: the "
               "configured offline time, ENGRAM_SOMA_OFFLINE_SECONDS)."))  # fmt: skip
_JSON = ("capabilities", "config", "drift_flags")


def agent_dict(r: Any) -> dict[str, Any]:
    return row_dict(r, _JSON)


def heartbeat_tx(conn: Any, user_id: int, name: str, agent_type: str = "cli") -> int:
    """Upsert an agent by name and record a heartbeat (it is online); returns its id."""
    now = now_iso()
    conn.execute(
        "INSERT INTO soma_agents (user_id, name, type, status, heartbeat_at, created_at, updated_at) VALUES"
        " (?, ?, ?, 'online', ?, ?, ?) ON CONFLICT (user_id, name) DO UPDATE SET status = 'online',"
        " heartbeat_at = excluded.heartbeat_at, updated_at = excluded.updated_at",
        (user_id, name, agent_type, now, now, now),
    )
    return int(conn.execute("SELECT id FROM soma_agents WHERE user_id = ? AND name = ?", (user_id, name)).fetchone()[0])


MAX_DRIFT_FLAGS = 20  # an agent's drift_flags keep the most recent distinct drift types


def flag_drift_tx(conn: Any, user_id: int, name: str, drift_type: str) -> None:
    """Put ``drift_type`` first among the drift flags of the user's agent called ``name`` (if registered)."""
    agent = conn.execute("SELECT id, drift_flags FROM soma_agents WHERE user_id = ? AND name = ?",
                         (user_id, name)).fetchone()  # fmt: skip
    if agent is not None:
        flags = [drift_type, *(f for f in json.loads(agent["drift_flags"] or "[]") if f != drift_type)]
        conn.execute("UPDATE soma_agents SET drift_flags = ?, updated_at = ? WHERE id = ?",
                     (json_dump(flags[:MAX_DRIFT_FLAGS]), now_iso(), agent["id"]))  # fmt: skip


class AgentRegistry:
    def __init__(self, db: Database, settings: Settings, axon: AxonService) -> None:
        self.db = db
        self.settings = settings
        self.axon = axon

    async def register(self, auth: AuthContext, body: Any) -> dict[str, Any]:
        q = AGENT.parse(body)

        def tx(conn: Any) -> dict[str, Any]:
            now = now_iso()
            conn.execute(
                "INSERT INTO soma_agents (user_id, name, type, description, capabilities, config, created_at,"
                " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (user_id, name) DO UPDATE SET"
                " type = excluded.type, description = excluded.description, capabilities = excluded.capabilities,"
                " config = excluded.config, updated_at = excluded.updated_at",
                (auth.user_id, q["name"], q["type"], q["description"], json_dump(q["capabilities"] or []),
                 json_dump(q["config"] or {}), now, now),
            )  # fmt: skip
            row = conn.execute(
                "SELECT * FROM soma_agents WHERE user_id = ? AND name = ?", (auth.user_id, q["name"])
            ).fetchone()
            return agent_dict(row)

        return await self.db.awrite(tx)

    async def list(self, auth: AuthContext, query: Any) -> dict[str, Any]:
        q = AGENT_LIST.parse(query)
        sql, args = "SELECT * FROM soma_agents WHERE user_id = ?", [auth.user_id]
        for key in ("type", "status"):
            if q[key]:
                sql += f" AND {key} = ?"
                args.append(q[key])
        if q["capability"]:
            sql += " AND EXISTS (SELECT 1 FROM json_each(capabilities) j WHERE j.value = ?)"
            args.append(q["capability"])
        rows = await self.db.aread(lambda c: c.execute(sql + " ORDER BY created_at DESC, id DESC LIMIT ?",
                                                       (*args, q["limit"])).fetchall())  # fmt: skip
        agents = [agent_dict(r) for r in rows]
        return {"agents": agents, "count": len(agents)}

    async def search(self, auth: AuthContext, query: Any) -> dict[str, Any]:
        q = SEARCH.parse(query)
        return await self.list(auth, {"capability": q["capability"], "status": q["status"], "limit": 1000})

    async def get(self, auth: AuthContext, agent_id: int) -> dict[str, Any]:
        return agent_dict(await self.db.aread(lambda c: owned_row(c, "soma_agents", auth.user_id, agent_id, "agent")))

    async def update(self, auth: AuthContext, agent_id: int, body: Any) -> dict[str, Any]:
        q = AGENT_UPDATE.parse(body, partial=True)

        def tx(conn: Any) -> dict[str, Any]:
            owned_row(conn, "soma_agents", auth.user_id, agent_id, "agent")
            changes = {k: (json_dump(v) if k in _JSON else v) for k, v in q.items() if v is not None}
            if changes:
                sets = ", ".join(f"{k} = ?" for k in changes)
                conn.execute(f"UPDATE soma_agents SET {sets}, updated_at = ? WHERE id = ?",
                             (*changes.values(), now_iso(), agent_id))  # fmt: skip
            return agent_dict(owned_row(conn, "soma_agents", auth.user_id, agent_id, "agent"))

        return await self.db.awrite(tx)

    async def set_quality(self, auth: AuthContext, agent_id: int, body: Any) -> dict[str, Any]:
        """The reference servers' quality report: ``{agentId, qualityScore, driftFlags}`` (and snake_case)."""
        q = QUALITY.parse(body)

        def tx(conn: Any) -> dict[str, Any]:
            row = owned_row(conn, "soma_agents", auth.user_id, agent_id, "agent")
            flags = q["drift_flags"] if q["drift_flags"] is not None else json.loads(row["drift_flags"] or "[]")
            conn.execute("UPDATE soma_agents SET quality_score = ?, drift_flags = ?, updated_at = ? WHERE id = ?",
                         (q["quality_score"], json_dump(flags), now_iso(), agent_id))  # fmt: skip
            return {"agentId": agent_id, "qualityScore": q["quality_score"], "driftFlags": flags,
                    "agent_id": agent_id, "quality_score": q["quality_score"], "drift_flags": flags}  # fmt: skip

        return await self.db.awrite(tx)

    async def delete(self, auth: AuthContext, agent_id: int) -> dict[str, Any]:
        def tx(conn: Any) -> dict[str, Any]:
            owned_row(conn, "soma_agents", auth.user_id, agent_id, "agent")
            conn.execute("DELETE FROM soma_agents WHERE id = ?", (agent_id,))
            return {"ok": True, "deleted": True, "id": agent_id}

        return await self.db.awrite(tx)

    async def heartbeat(self, auth: AuthContext, agent_id: int, body: Any) -> dict[str, Any]:
        q = HEARTBEAT.parse(body)

        def tx(conn: Any) -> dict[str, Any]:
            owned_row(conn, "soma_agents", auth.user_id, agent_id, "agent")
            now = now_iso()
            conn.execute("UPDATE soma_agents SET status = ?, heartbeat_at = ?, updated_at = ? WHERE id = ?",
                         (q["status"] or "online", now, now, agent_id))  # fmt: skip
            return {"ok": True, **agent_dict(owned_row(conn, "soma_agents", auth.user_id, agent_id, "agent"))}

        return await self.db.awrite(tx)

    async def log(self, auth: AuthContext, agent_id: int, body: Any) -> dict[str, Any]:
        q = LOG.parse(body)

        def tx(conn: Any) -> dict[str, Any]:
            owned_row(conn, "soma_agents", auth.user_id, agent_id, "agent")
            cur = conn.execute("INSERT INTO soma_agent_logs (user_id, agent_id, level, message, data, created_at)"
                               " VALUES (?, ?, ?, ?, ?, ?)", (auth.user_id, agent_id, q["level"], q["message"],
                                                              json_dump(q["data"] or {}), now_iso()))  # fmt: skip
            row = conn.execute("SELECT * FROM soma_agent_logs WHERE id = ?", (cur.lastrowid,)).fetchone()
            return row_dict(row, ("data",), drop=("user_id",))

        return await self.db.awrite(tx)

    async def logs(self, auth: AuthContext, agent_id: int, query: Any) -> dict[str, Any]:
        """The agent's log, newest first."""
        q = LOGS.parse(query)

        def run(conn: Any) -> list[Any]:
            owned_row(conn, "soma_agents", auth.user_id, agent_id, "agent")
            sql, args = "SELECT * FROM soma_agent_logs WHERE agent_id = ? AND user_id = ?", [agent_id, auth.user_id]
            if q["level"]:
                sql += " AND level = ?"
                args.append(q["level"])
            return list(conn.execute(sql + " ORDER BY id DESC LIMIT ?", (*args, q["limit"])).fetchall())

        logs = [row_dict(r, ("data",), drop=("user_id",)) for r in await self.db.aread(run)]
        return {"logs": logs, "count": len(logs), "agent_id": agent_id}

    async def stale(self, auth: AuthContext, query: Any) -> dict[str, Any]:
        """Agents without a heartbeat for ``minutes`` (never-seen agents included), whatever their status."""
        q = STALE.parse(query)
        seconds = q["minutes"] * 60 if q["minutes"] is not None else self.settings.soma_offline_seconds
        cutoff = format_ts(datetime.now(UTC) - timedelta(seconds=seconds))
        sql = ("SELECT * FROM soma_agents WHERE user_id = ? AND (heartbeat_at IS NULL OR heartbeat_at < ?)"
               " ORDER BY heartbeat_at IS NOT NULL, heartbeat_at, id")  # fmt: skip
        rows = await self.db.aread(lambda c: c.execute(sql, (auth.user_id, cutoff)).fetchall())
        agents = [agent_dict(r) for r in rows]
        return {"agents": agents, "count": len(agents), "minutes": round(seconds / 60, 4)}

    async def create_group(self, auth: AuthContext, body: Any) -> dict[str, Any]:
        q = GROUP.parse(body)

        def tx(conn: Any) -> dict[str, Any]:
            if conn.execute("SELECT 1 FROM soma_groups WHERE user_id = ? AND name = ?",
                            (auth.user_id, q["name"])).fetchone():  # fmt: skip
                raise Conflict(f"group {q['name']!r} exists already")
            cur = conn.execute(
                "INSERT INTO soma_groups (user_id, name, description, created_at) VALUES (?, ?, ?, ?)",
                (auth.user_id, q["name"], q["description"], now_iso()),
            )
            return dict(owned_row(conn, "soma_groups", auth.user_id, int(cur.lastrowid), "group"))

        return await self.db.awrite(tx)

    async def groups(self, auth: AuthContext) -> dict[str, Any]:
        sql = ("SELECT g.*, (SELECT count(*) FROM soma_group_members m WHERE m.group_id = g.id) AS member_count"
               " FROM soma_groups g WHERE g.user_id = ? ORDER BY g.id")  # fmt: skip
        rows = await self.db.aread(lambda c: c.execute(sql, (auth.user_id,)).fetchall())
        return {"groups": [dict(r) for r in rows], "count": len(rows)}

    async def add_member(self, auth: AuthContext, group_id: int, body: Any) -> dict[str, Any]:
        q = MEMBER.parse(body)

        def tx(conn: Any) -> dict[str, Any]:
            owned_row(conn, "soma_groups", auth.user_id, group_id, "group")
            owned_row(conn, "soma_agents", auth.user_id, q["agent_id"], "agent")
            conn.execute("INSERT OR IGNORE INTO soma_group_members (group_id, agent_id, user_id, added_at) VALUES"
                         " (?, ?, ?, ?)", (group_id, q["agent_id"], auth.user_id, now_iso()))  # fmt: skip
            return {"ok": True, "group_id": group_id, "agent_id": q["agent_id"]}

        return await self.db.awrite(tx)

    async def members(self, auth: AuthContext, group_id: int) -> dict[str, Any]:
        def run(conn: Any) -> list[Any]:
            owned_row(conn, "soma_groups", auth.user_id, group_id, "group")
            return list(conn.execute("SELECT a.* FROM soma_group_members m JOIN soma_agents a ON a.id = m.agent_id"
                                     " WHERE m.group_id = ? ORDER BY a.name", (group_id,)).fetchall())  # fmt: skip

        agents = [agent_dict(r) for r in await self.db.aread(run)]
        return {"agents": agents, "count": len(agents), "group_id": group_id}

    async def remove_member(self, auth: AuthContext, group_id: int, agent_id: int) -> dict[str, Any]:
        def tx(conn: Any) -> dict[str, Any]:
            owned_row(conn, "soma_groups", auth.user_id, group_id, "group")
            cur = conn.execute("DELETE FROM soma_group_members WHERE group_id = ? AND agent_id = ?",
                               (group_id, agent_id))  # fmt: skip
            return {"removed": bool(cur.rowcount)}

        return await self.db.awrite(tx)

    async def stats(self, auth: AuthContext) -> dict[str, Any]:
        def run(conn: Any) -> dict[str, Any]:
            def group(col: str) -> dict[str, int]:
                rows = conn.execute(f"SELECT {col}, count(*) FROM soma_agents WHERE user_id = ? GROUP BY {col}",
                                    (auth.user_id,)).fetchall()  # fmt: skip
                return {r[0]: r[1] for r in rows}

            by_type, by_status = group("type"), group("status")
            groups = conn.execute("SELECT count(*) FROM soma_groups WHERE user_id = ?", (auth.user_id,)).fetchone()[0]
            total, online = sum(by_status.values()), by_status.get("online", 0)
            return {"total_agents": total, "online_agents": online, "types": len(by_type), "agents": total,
                    "online": online, "groups": groups, "by_type": by_type, "by_status": by_status}  # fmt: skip

        return await self.db.aread(run)

    async def mark_offline(self) -> int:
        """Periodic: online agents silent for longer than the setting become offline (with an event)."""
        cutoff = format_ts(datetime.now(UTC) - timedelta(seconds=self.settings.soma_offline_seconds))

        def tx(conn: Any, pub: Publisher) -> int:
            rows = conn.execute("SELECT * FROM soma_agents WHERE status = 'online' AND (heartbeat_at IS NULL OR"
                                " heartbeat_at < ?)", (cutoff,)).fetchall()  # fmt: skip
            for r in rows:
                conn.execute("UPDATE soma_agents SET status = 'offline', updated_at = ? WHERE id = ?",
                             (now_iso(), r["id"]))  # fmt: skip
                pub.publish(
                    r["user_id"],
                    "agents",
                    "agent.offline",
                    {"agent_id": r["id"], "name": r["name"], "heartbeat_at": r["heartbeat_at"]},
                    "soma",
                )
            return len(rows)

        return await self.axon.write(tx)
