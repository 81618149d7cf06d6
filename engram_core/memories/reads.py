"""Memory reads: get, list, trash, versions, tags, counts. Plain functions over a connection."""

from __future__ import annotations

from typing import Any

from ..errors import NotFound
from ..model.memories import VISIBLE, active, owned_memory
from ..timeutil import now_iso
from .records import memory_dict

__all__ = ["get_memory", "list_memories", "list_tags", "list_trash", "touch", "user_stats", "version_chain"]


def get_memory(conn: Any, user_id: int, memory_id: int) -> dict[str, Any]:
    """One of the user's memories (any version, forgotten or archived included; not trashed or expired)."""
    row = conn.execute(
        "SELECT * FROM memories m WHERE m.id = :id AND m.user_id = :user AND m.is_deleted = 0"
        " AND (m.forget_after IS NULL OR m.forget_after > :now)",
        {"id": memory_id, "user": user_id, "now": now_iso()},
    ).fetchone()
    if row is None:
        raise NotFound(f"memory {memory_id} not found")
    return memory_dict(row)


def touch(conn: Any, user_id: int, memory_ids: list[int]) -> None:
    """Count an access (write transaction)."""
    now = now_iso()
    conn.executemany(
        "UPDATE memories SET access_count = access_count + 1, last_accessed_at = ? WHERE id = ? AND user_id = ?",
        [(now, mid, user_id) for mid in memory_ids],
    )


def _filters(q: dict[str, Any], params: dict[str, Any]) -> str:
    sql = ""
    for name in ("category", "source", "space_id", "session_id", "status"):
        if q.get(name) is not None:
            sql += f" AND m.{name} = :{name}"
            params[name] = q[name]
    for i, tag in enumerate(q.get("tags") or []):
        sql += f" AND EXISTS (SELECT 1 FROM memory_tags t WHERE t.memory_id = m.id AND t.tag = :tag{i})"
        params[f"tag{i}"] = tag
    return sql


def list_memories(conn: Any, user_id: int, q: dict[str, Any]) -> dict[str, Any]:
    """Latest memories, newest first, with filters and pagination."""
    params: dict[str, Any] = {"user": user_id, "now": now_iso()}
    where = (
        "m.user_id = :user AND m.is_latest = 1 AND m.is_deleted = 0 AND m.is_consolidated = 0"
        " AND (m.forget_after IS NULL OR m.forget_after > :now)"
    )
    if not q.get("include_forgotten"):
        where += " AND m.is_forgotten = 0"
    if not q.get("include_archived"):
        where += " AND m.is_archived = 0"
    where += _filters(q, params)
    total = conn.execute(f"SELECT count(*) FROM memories m WHERE {where}", params).fetchone()[0]
    params.update(limit=q["limit"], offset=q["offset"])
    rows = conn.execute(
        f"SELECT * FROM memories m WHERE {where} ORDER BY m.created_at DESC, m.id DESC LIMIT :limit OFFSET :offset",
        params,
    ).fetchall()
    results = [memory_dict(r) for r in rows]
    return {"results": results, "count": len(results), "total": total, "limit": q["limit"], "offset": q["offset"]}


def list_trash(conn: Any, user_id: int, limit: int, offset: int) -> dict[str, Any]:
    rows = conn.execute(
        "SELECT * FROM memories WHERE user_id = ? AND is_deleted = 1"
        " ORDER BY deleted_at DESC, id DESC LIMIT ? OFFSET ?",
        (user_id, limit, offset),
    ).fetchall()
    results = [{**memory_dict(r), "deleted_at": r["deleted_at"]} for r in rows]
    return {"results": results, "count": len(results)}


def version_chain(conn: Any, user_id: int, memory_id: int) -> dict[str, Any]:
    row = owned_memory(conn, user_id, memory_id, trashed=True)
    root = row["root_id"] or row["id"]
    chain = [
        {
            "id": r["id"],
            "content": r["content"],
            "version": r["version"],
            "is_latest": bool(r["is_latest"]),
            "created_at": r["created_at"],
            "parent_id": r["parent_id"],
        }
        for r in conn.execute(
            "SELECT * FROM memories WHERE user_id = ? AND (root_id = ? OR id = ?) ORDER BY version, id",
            (user_id, root, root),
        )
    ]
    return {"root_id": root, "chain": chain}


def list_tags(conn: Any, user_id: int) -> dict[str, Any]:
    rows = conn.execute(
        # CROSS JOIN: walk the user's tag rows, then each one's memory by primary key
        "SELECT t.tag AS tag, count(*) AS n FROM memory_tags t CROSS JOIN memories m ON m.id = t.memory_id"
        f" WHERE t.user_id = :user AND m.user_id = :user AND {VISIBLE} GROUP BY t.tag ORDER BY n DESC, tag",
        {"user": user_id, "now": now_iso()},
    ).fetchall()
    return {"tags": [{"tag": r["tag"], "count": r["n"]} for r in rows]}


def user_stats(conn: Any, user_id: int) -> dict[str, Any]:
    """Per-user counts for /me/stats."""
    row = conn.execute(
        f"SELECT count(*) AS versions, sum({active('')}) AS active,"
        " sum(is_latest AND is_forgotten AND NOT is_deleted) AS forgotten,"
        " sum(is_latest AND is_archived AND NOT is_deleted) AS archived,"
        " sum(is_deleted) AS trashed,"
        " sum(is_latest AND NOT is_deleted AND is_static) AS static,"
        " sum(is_latest AND NOT is_deleted AND embedding IS NOT NULL) AS embedded"
        " FROM memories WHERE user_id = ?",
        (user_id,),
    ).fetchone()
    cats = conn.execute(
        f"SELECT category, count(*) AS n FROM memories WHERE user_id = ? AND {active('')}"
        " GROUP BY category ORDER BY n DESC",
        (user_id,),
    ).fetchall()
    links = conn.execute("SELECT count(*) FROM memory_links WHERE user_id = ?", (user_id,)).fetchone()[0]
    return {
        "user_id": user_id,
        "memories": row["active"] or 0,
        "versions": row["versions"] or 0,
        "forgotten": row["forgotten"] or 0,
        "archived": row["archived"] or 0,
        "trashed": row["trashed"] or 0,
        "static": row["static"] or 0,
        "embedded": row["embedded"] or 0,
        "links": links,
        "categories": {r["category"]: r["n"] for r in cats},
    }
