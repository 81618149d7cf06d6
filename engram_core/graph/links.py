"""Typed links between memories: create, list, delete, and the per-user changed-links counter.

Every function takes the connection of the caller's transaction. Links are directed rows
``(source_id, target_id, link_type, weight)`` unique per (source, target, type). Each change bumps
``graph_state.links_changed`` (:mod:`engram_core.model.links`) for the user, which the PageRank refresh reads.
"""

from __future__ import annotations

from typing import Any

from ..auth import audit
from ..auth.context import AuthContext
from ..errors import Invalid, NotFound
from ..jobs.queue import enqueue
from ..model.links import bump_links_changed, upsert_link
from ..model.memories import owned_memory
from ..storage.database import Database
from ..validation import Field, Schema

__all__ = [
    "AUTOLINK_JOB",
    "LINK",
    "LINK_TYPES",
    "LinkService",
    "enqueue_autolink",
    "enqueue_autolink_many",
    "link_dict",
    "links_of",
]

#: Job kind of the post-store auto-link work.
AUTOLINK_JOB = "autolink"
LINK_TYPES = (
    "updates",
    "has_fact",
    "contradicts",
    "caused_by",
    "prerequisite_for",
    "extends",
    "supersedes",
    "consolidates",
    "similarity",
    "related",
    "corrects",
    "derived_from",
)

LINK = Schema(
    Field("source_id", "int", required=True, min=1),
    Field("target_id", "int", required=True, min=1),
    Field("link_type", "str", default="related", choices=LINK_TYPES, aliases=("type",)),
    Field("weight", "float", default=1.0, min=0.0, max=100.0, aliases=("similarity",)),
    description="Create (or reweight) a typed link between two of the caller's memories.",
)


def enqueue_autolink(conn: Any, user_id: int, memory_id: int, *, delay: float = 0.0) -> int:
    """Queue the durable auto-link job for a memory inside the caller's write transaction.

    Called by the store/update transaction hook and by whoever embeds a memory later (backfill).
    """
    return enqueue(conn, AUTOLINK_JOB, {"memory_id": memory_id}, user_id=user_id, delay=delay)


def enqueue_autolink_many(conn: Any, user_id: int, memory_ids: list[int]) -> int:
    """Queue ONE auto-link job for several memories one transaction wrote (a ``store_many`` batch)."""
    return enqueue(conn, AUTOLINK_JOB, {"memory_ids": memory_ids}, user_id=user_id)


def link_dict(r: Any) -> dict[str, Any]:
    """The public shape of one link row."""
    return {
        "id": r["id"],
        "source_id": r["source_id"],
        "target_id": r["target_id"],
        "link_type": r["link_type"],
        "weight": r["weight"],
        "created_at": r["created_at"],
    }


def links_of(conn: Any, user_id: int, memory_id: int) -> dict[str, Any]:
    """Outgoing and incoming links of one of the user's memories, each with the other end's text.

    ``links`` is the reference clients' flat list (``id`` is the linked memory's, ``similarity`` the link
    weight, ``type`` its type); ``outgoing`` / ``incoming`` keep the link rows with their direction.
    """
    owned_memory(conn, user_id, memory_id)
    sql = (
        "SELECT l.*, o.content AS other_content, o.category AS other_category FROM memory_links l"
        " JOIN memories o ON o.id = l.{other}"
        " WHERE l.user_id = ? AND l.{this} = ? AND o.user_id = ? ORDER BY l.weight DESC, l.id"
    )
    out: dict[str, Any] = {"id": memory_id, "memory_id": memory_id}
    flat: list[dict[str, Any]] = []
    for direction, this, other in (
        ("outgoing", "source_id", "target_id"),
        ("incoming", "target_id", "source_id"),
    ):
        rows = conn.execute(sql.format(this=this, other=other), (user_id, memory_id, user_id)).fetchall()
        out[direction] = [
            {**link_dict(r), "other": {"id": r[other], "content": r["other_content"][:200]}} for r in rows
        ]
        flat.extend(
            {"id": r[other], "content": r["other_content"], "category": r["other_category"],
             "similarity": r["weight"], "type": r["link_type"], "direction": direction, "link_id": r["id"]}
            for r in rows
        )  # fmt: skip
    flat.sort(key=lambda item: (-item["similarity"], item["link_id"]))
    out["links"] = flat
    out["count"] = len(flat)
    return out


class LinkService:
    """The typed-link routes for one authenticated caller at a time."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def of_memory(self, auth: AuthContext, memory_id: int) -> dict[str, Any]:
        """Links of one memory (both directions)."""
        auth.require("read")
        return await self.db.aread(lambda conn: links_of(conn, auth.user_id, memory_id))

    async def create(self, auth: AuthContext, body: Any) -> dict[str, Any]:
        """Create (or reweight) a typed link between two of the caller's memories."""
        auth.require("write")
        q = LINK.parse(body)
        if q["source_id"] == q["target_id"]:
            raise Invalid("target_id", "must differ from source_id")

        def tx(conn: Any) -> dict[str, Any]:
            for mid in (q["source_id"], q["target_id"]):
                owned_memory(conn, auth.user_id, mid)
            changed = upsert_link(conn, auth.user_id, q["source_id"], q["target_id"], q["link_type"], q["weight"])
            bump_links_changed(conn, auth.user_id, int(changed))
            row = conn.execute(
                "SELECT * FROM memory_links WHERE source_id = ? AND target_id = ? AND link_type = ?",
                (q["source_id"], q["target_id"], q["link_type"]),
            ).fetchone()
            audit.record(conn, auth, "link.create", "link", row["id"], {"type": q["link_type"]})
            return link_dict(row)

        return await self.db.awrite(tx)

    async def delete(self, auth: AuthContext, link_id: int) -> dict[str, Any]:
        """Delete one of the caller's links by link id."""
        auth.require("write")

        def tx(conn: Any) -> dict[str, Any]:
            cur = conn.execute("DELETE FROM memory_links WHERE id = ? AND user_id = ?", (link_id, auth.user_id))
            if not cur.rowcount:
                raise NotFound(f"link {link_id} not found")
            bump_links_changed(conn, auth.user_id, 1)
            audit.record(conn, auth, "link.delete", "link", link_id)
            return {"deleted": True, "id": link_id}

        return await self.db.awrite(tx)
