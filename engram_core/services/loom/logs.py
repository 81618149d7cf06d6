"""A run's log: one entry per run start and end and per step start, completion, retry, failure or timeout,
written by the engine in the transaction that makes the change (so the log never disagrees with the rows)."""

from __future__ import annotations

from typing import Any

from ...auth.context import AuthContext
from ...storage.owned import owned_row
from ...timeutil import now_iso
from ...validation import Field, Schema
from ..common import json_dump, row_dict

__all__ = ["LEVELS", "RUN_LOGS", "log_tx", "run_logs"]

LEVELS = ("info", "warn", "error")
RUN_LOGS = Schema(
    Field("step_id", "int", min=1),
    Field("level", "str", choices=LEVELS),
    Field("limit", "int", default=500, min=1, max=2000),
)


def log_tx(conn: Any, user_id: int, run_id: int, step_id: int | None, level: str, message: str,
           data: Any = None) -> None:  # fmt: skip
    conn.execute(
        "INSERT INTO loom_run_logs (user_id, run_id, step_id, level, message, data, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (user_id, run_id, step_id, level, message, json_dump({} if data is None else data), now_iso()),
    )


def run_logs(conn: Any, auth: AuthContext, run_id: int, q: dict[str, Any]) -> dict[str, Any]:
    """The run's entries, oldest first (404 unless the run is the caller's)."""
    owned_row(conn, "loom_runs", auth.user_id, run_id, "run")
    sql, args = "SELECT * FROM loom_run_logs WHERE run_id = ? AND user_id = ?", [run_id, auth.user_id]
    for key in ("step_id", "level"):
        if q[key] is not None:
            sql += f" AND {key} = ?"
            args.append(q[key])
    rows = conn.execute(sql + " ORDER BY id LIMIT ?", (*args, q["limit"])).fetchall()
    logs = [row_dict(r, ("data",), drop=("user_id",)) for r in rows]
    return {"logs": logs, "count": len(logs), "run_id": run_id}
