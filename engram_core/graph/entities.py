"""Entities (people, places, tools, ...), the memories that mention them, their co-occurrence, and
typed relationships between them.

Co-occurrence: when an entity is attached to a memory, every other entity already attached to that
memory gets its pair count (stored once per unordered pair) raised by one, so a pair's count is the
number of memories mentioning both.
"""

from __future__ import annotations

import json
from typing import Any

from ..auth import audit
from ..auth.context import AuthContext
from ..errors import Invalid
from ..model.memories import VISIBLE
from ..organize.common import ids_field, memory_summaries, require_memories, update_fields
from ..storage.database import Database
from ..storage.owned import owned_row
from ..timeutil import now_iso
from ..validation import Field, Schema

__all__ = ["ENTITY", "ENTITY_LIST", "ENTITY_UPDATE", "PAGE", "EntityService", "RELATIONSHIP", "attach"]

ENTITY = Schema(
    Field("name", "text", required=True, max_len=200),
    Field("type", "str", default="thing", max_len=50, aliases=("entity_type",)),
    Field("description", "str", max_len=4000),
    Field("aliases", "str_list", max_items=50),
    ids_field(),
    description="Create an entity (or return the existing one with that name and type) and attach memories.",
)
ENTITY_UPDATE = Schema(
    Field("name", "text", max_len=200),
    Field("type", "str", max_len=50, aliases=("entity_type",)),
    Field("description", "str", max_len=4000),
    Field("aliases", "str_list", max_items=50),
    ids_field(),
    description="Change an entity's fields (only those given) and attach more memories.",
)
ENTITY_LIST = Schema(
    Field("type", "str", max_len=50),
    Field("q", "str", max_len=200, help="Name contains."),
    Field("limit", "int", default=100, min=1, max=1000),
    Field("offset", "int", default=0, min=0),
)
RELATIONSHIP = Schema(
    Field("source_entity_id", "int", required=True, min=1, aliases=("source_id",)),
    Field("target_entity_id", "int", required=True, min=1, aliases=("target_id",)),
    Field("relationship", "text", required=True, max_len=100, aliases=("type",)),
    Field("weight", "float", default=1.0, min=0.0, max=100.0),
    description="Create (or reweight) a typed relationship between two entities.",
)
PAGE = Schema(Field("limit", "int", default=100, min=1, max=1000))
_COLUMNS = {"name": "name", "type": "entity_type", "description": "description", "aliases": "aliases"}


def entity_dict(r: Any) -> dict[str, Any]:
    """The public shape of an entity row."""
    return {
        "id": r["id"],
        "name": r["name"],
        "type": r["entity_type"],
        "description": r["description"],
        "aliases": json.loads(r["aliases"]),
        "created_at": r["created_at"],
        "updated_at": r["updated_at"],
    }


def attach(conn: Any, user_id: int, entity_id: int, memory_id: int) -> bool:
    """Attach an entity to a memory and count the new co-occurrences; False if already attached."""
    now = now_iso()
    cur = conn.execute(
        "INSERT OR IGNORE INTO memory_entities (memory_id, entity_id, user_id, created_at) VALUES (?, ?, ?, ?)",
        (memory_id, entity_id, user_id, now),
    )
    if not cur.rowcount:
        return False
    others = [
        r[0]
        for r in conn.execute(
            "SELECT entity_id FROM memory_entities WHERE memory_id = ? AND entity_id != ?",
            (memory_id, entity_id),
        )
    ]
    conn.executemany(
        "INSERT INTO entity_cooccurrences (user_id, entity_a, entity_b, count, updated_at) VALUES (?, ?, ?,"
        " 1, ?)"
        " ON CONFLICT(entity_a, entity_b) DO UPDATE SET count = count + 1, updated_at = excluded.updated_at",
        [(user_id, min(entity_id, o), max(entity_id, o), now) for o in others],
    )
    return True


def _attach_all(conn: Any, user_id: int, entity_id: int, memory_ids: list[int]) -> int:
    require_memories(conn, user_id, memory_ids)
    return sum(attach(conn, user_id, entity_id, mid) for mid in memory_ids)


class EntityService:
    """Entity routes for one authenticated caller at a time."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def create(self, auth: AuthContext, body: Any) -> dict[str, Any]:
        """Create an entity, or reuse the one with the same name and type; attach memory_ids."""
        auth.require("write")
        q = ENTITY.parse(body)

        def tx(conn: Any) -> dict[str, Any]:
            row = conn.execute(
                "SELECT * FROM entities WHERE user_id = ? AND entity_type = ? AND name = ? COLLATE NOCASE",
                (auth.user_id, q["type"], q["name"]),
            ).fetchone()
            created = row is None
            if created:
                now = now_iso()
                cur = conn.execute(
                    "INSERT INTO entities (user_id, name, entity_type, description, aliases, created_at,"
                    " updated_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        auth.user_id,
                        q["name"],
                        q["type"],
                        q["description"] or "",
                        json.dumps(q["aliases"] or []),
                        now,
                        now,
                    ),
                )
                row = owned_row(conn, "entities", auth.user_id, int(cur.lastrowid), "entity")
            attached = _attach_all(conn, auth.user_id, row["id"], q["memory_ids"] or [])
            audit.record(conn, auth, "entity.create" if created else "entity.attach", "entity", row["id"])
            return {**entity_dict(row), "created": created, "attached": attached}

        return await self.db.awrite(tx)

    async def list(self, auth: AuthContext, query: Any) -> dict[str, Any]:
        """The caller's entities with their memory counts."""
        auth.require("read")
        q = ENTITY_LIST.parse(query)
        sql = (
            "SELECT e.*, (SELECT count(*) FROM memory_entities me WHERE me.entity_id = e.id) AS memory_count"
            " FROM entities e WHERE e.user_id = ?"
        )
        args: list[Any] = [auth.user_id]
        if q["type"]:
            sql += " AND e.entity_type = ?"
            args.append(q["type"])
        if q["q"]:
            sql += " AND e.name LIKE ? ESCAPE '\\'"
            args.append("%" + q["q"].replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%")
        sql += " ORDER BY memory_count DESC, e.name LIMIT ? OFFSET ?"
        rows = await self.db.aread(lambda conn: conn.execute(sql, (*args, q["limit"], q["offset"])).fetchall())
        entities = [{**entity_dict(r), "memory_count": r["memory_count"]} for r in rows]
        return {"entities": entities, "count": len(entities)}

    async def get(self, auth: AuthContext, entity_id: int) -> dict[str, Any]:
        """One entity with its memory count and relationships."""
        auth.require("read")

        def run(conn: Any) -> dict[str, Any]:
            row = owned_row(conn, "entities", auth.user_id, entity_id, "entity")
            count = conn.execute("SELECT count(*) FROM memory_entities WHERE entity_id = ?", (entity_id,)).fetchone()[0]
            rels = conn.execute(
                "SELECT r.*, s.name AS source_name, t.name AS target_name FROM entity_relationships r"
                " JOIN entities s ON s.id = r.source_id JOIN entities t ON t.id = r.target_id"
                " WHERE r.user_id = ? AND (r.source_id = ? OR r.target_id = ?) ORDER BY r.id",
                (auth.user_id, entity_id, entity_id),
            ).fetchall()
            return {**entity_dict(row), "memory_count": count, "relationships": [_rel_dict(r) for r in rels]}

        return await self.db.aread(run)

    async def update(self, auth: AuthContext, entity_id: int, body: Any) -> dict[str, Any]:
        """Change an entity's fields and attach more memories."""
        auth.require("write")
        q = ENTITY_UPDATE.parse(body, partial=True)

        def tx(conn: Any) -> dict[str, Any]:
            owned_row(conn, "entities", auth.user_id, entity_id, "entity")
            row = update_fields(conn, auth, "entities", "entity", entity_id, q, _COLUMNS)
            attached = _attach_all(conn, auth.user_id, entity_id, q.get("memory_ids") or [])
            return {**entity_dict(row), "attached": attached}

        return await self.db.awrite(tx)

    async def delete(self, auth: AuthContext, entity_id: int) -> dict[str, Any]:
        """Delete an entity (its memory links, co-occurrences and relationships go with it)."""
        auth.require("write")

        def tx(conn: Any) -> dict[str, Any]:
            owned_row(conn, "entities", auth.user_id, entity_id, "entity")
            conn.execute("DELETE FROM entities WHERE id = ?", (entity_id,))
            audit.record(conn, auth, "entity.delete", "entity", entity_id)
            return {"deleted": True, "id": entity_id}

        return await self.db.awrite(tx)

    async def memories(self, auth: AuthContext, entity_id: int, query: Any) -> dict[str, Any]:
        """The caller's visible memories that mention an entity, newest first."""
        auth.require("read")
        limit = PAGE.parse(query)["limit"]

        def run(conn: Any) -> list[dict[str, Any]]:
            owned_row(conn, "entities", auth.user_id, entity_id, "entity")
            sql = (
                "SELECT m.* FROM memory_entities me JOIN memories m ON m.id = me.memory_id"
                " WHERE me.entity_id = :e AND m.user_id = :user AND "
                + VISIBLE
                + " ORDER BY m.created_at DESC LIMIT :limit"
            )
            return memory_summaries(conn, sql, {"e": entity_id, "user": auth.user_id, "now": now_iso(), "limit": limit})

        found = await self.db.aread(run)
        return {"entity_id": entity_id, "memories": found, "count": len(found)}

    async def cooccurrences(self, auth: AuthContext, entity_id: int, query: Any) -> dict[str, Any]:
        """Entities mentioned together with this one, most often first."""
        auth.require("read")
        limit = PAGE.parse(query)["limit"]

        def run(conn: Any) -> list[dict[str, Any]]:
            owned_row(conn, "entities", auth.user_id, entity_id, "entity")
            rows = conn.execute(
                "SELECT e.*, c.count AS together FROM entity_cooccurrences c JOIN entities e"
                " ON e.id = CASE WHEN c.entity_a = :e THEN c.entity_b ELSE c.entity_a END"
                " WHERE c.user_id = :user AND (c.entity_a = :e OR c.entity_b = :e)"
                " ORDER BY c.count DESC, e.name LIMIT :limit",
                {"e": entity_id, "user": auth.user_id, "limit": limit},
            ).fetchall()
            return [{"entity": entity_dict(r), "count": r["together"]} for r in rows]

        found = await self.db.aread(run)
        return {"entity_id": entity_id, "cooccurrences": found, "count": len(found)}

    async def relate(self, auth: AuthContext, body: Any) -> dict[str, Any]:
        """Create (or reweight) a relationship between two of the caller's entities."""
        auth.require("write")
        q = RELATIONSHIP.parse(body)
        if q["source_entity_id"] == q["target_entity_id"]:
            raise Invalid("target_entity_id", "must differ from source_entity_id")

        def tx(conn: Any) -> dict[str, Any]:
            for eid in (q["source_entity_id"], q["target_entity_id"]):
                owned_row(conn, "entities", auth.user_id, eid, "entity")
            conn.execute(
                "INSERT INTO entity_relationships (user_id, source_id, target_id, relationship, weight,"
                " created_at)"
                " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(source_id, target_id, relationship)"
                " DO UPDATE SET weight = excluded.weight",
                (
                    auth.user_id,
                    q["source_entity_id"],
                    q["target_entity_id"],
                    q["relationship"],
                    q["weight"],
                    now_iso(),
                ),
            )
            row = conn.execute(
                "SELECT r.*, s.name AS source_name, t.name AS target_name FROM entity_relationships r"
                " JOIN entities s ON s.id = r.source_id JOIN entities t ON t.id = r.target_id"
                " WHERE r.source_id = ? AND r.target_id = ? AND r.relationship = ?",
                (q["source_entity_id"], q["target_entity_id"], q["relationship"]),
            ).fetchone()
            audit.record(conn, auth, "entity.relate", "entity_relationship", row["id"])
            return _rel_dict(row)

        return await self.db.awrite(tx)

    async def of_memory(self, auth: AuthContext, memory_id: int) -> dict[str, Any]:
        """Entities attached to one of the caller's memories."""
        auth.require("read")

        def run(conn: Any) -> list[dict[str, Any]]:
            require_memories(conn, auth.user_id, [memory_id])
            rows = conn.execute(
                "SELECT e.* FROM memory_entities me JOIN entities e ON e.id = me.entity_id"
                " WHERE me.memory_id = ? AND e.user_id = ? ORDER BY e.name",
                (memory_id, auth.user_id),
            ).fetchall()
            return [entity_dict(r) for r in rows]

        found = await self.db.aread(run)
        return {"memory_id": memory_id, "entities": found, "count": len(found)}


def _rel_dict(r: Any) -> dict[str, Any]:
    return {
        "id": r["id"],
        "source_entity_id": r["source_id"],
        "source_name": r["source_name"],
        "target_entity_id": r["target_id"],
        "target_name": r["target_name"],
        "relationship": r["relationship"],
        "weight": r["weight"],
        "created_at": r["created_at"],
    }
