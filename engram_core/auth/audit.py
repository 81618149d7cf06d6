"""The audit log: one row per mutation, written in the mutation's own transaction."""

from __future__ import annotations

import json
from typing import Any

from ..timeutil import now_iso
from .context import AuthContext

__all__ = ["clear_details", "list_audit", "record"]


def record(
    conn: Any,
    auth: AuthContext | None,
    action: str,
    target_type: str | None = None,
    target_id: int | None = None,
    detail: dict[str, Any] | None = None,
    *,
    user_id: int | None = None,
) -> None:
    """Append an audit row. Call it inside the write transaction of the mutation it describes."""
    conn.execute(
        "INSERT INTO audit_log (user_id, key_id, action, target_type, target_id, detail, ip, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            user_id if user_id is not None else (auth.user_id if auth else None),
            auth.key_id if auth else None,
            action,
            target_type,
            target_id,
            json.dumps(detail or {}, separators=(",", ":")),
            auth.ip if auth else None,
            now_iso(),
        ),
    )


def clear_details(conn: Any, user_id: int, target_type: str, target_ids: list[int]) -> int:
    """Empty the detail of the user's audit rows about these targets (a purge: a detail may quote content,
    e.g. the tags of ``memory.tags``). The rows themselves stay: who did what, when, to which id."""
    if not target_ids:
        return 0
    marks = ", ".join("?" for _ in target_ids)
    cur = conn.execute(
        f"UPDATE audit_log SET detail = '{{}}' WHERE user_id = ? AND target_type = ? AND target_id IN ({marks})"
        " AND detail != '{}'",
        [user_id, target_type, *target_ids],
    )
    return int(cur.rowcount)


def list_audit(
    conn: Any, user_id: int, *, limit: int, before_id: int | None, action: str | None
) -> list[dict[str, Any]]:
    """The user's audit rows, newest first."""
    sql = "SELECT * FROM audit_log WHERE user_id = ?"
    args: list[Any] = [user_id]
    if before_id is not None:
        sql += " AND id < ?"
        args.append(before_id)
    if action:
        sql += " AND action = ?"
        args.append(action)
    sql += " ORDER BY id DESC LIMIT ?"
    args.append(limit)
    return [
        {
            "id": r["id"],
            "user_id": r["user_id"],
            "key_id": r["key_id"],
            "action": r["action"],
            "target_type": r["target_type"],
            "target_id": r["target_id"],
            "detail": json.loads(r["detail"]),
            "ip": r["ip"],
            "created_at": r["created_at"],
        }
        for r in conn.execute(sql, args)
    ]
