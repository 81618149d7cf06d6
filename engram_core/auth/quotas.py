"""Per-user memory quotas: ENGRAM_MEMORY_QUOTA for everyone, overridden per user in ``user_quotas``.

A limit of 0 means unlimited (for the setting and for an override alike). The check runs inside the
store transaction (``check_memory_quota``), so two concurrent stores cannot both squeeze past the limit:
the single write thread serialises them. Going over answers ``QuotaExceeded`` (403).
"""

from __future__ import annotations

from typing import Any

from ..errors import NotFound, QuotaExceeded
from ..settings import Settings
from ..storage.database import Database
from ..timeutil import now_iso
from ..validation import Field, Schema
from . import audit
from .context import AuthContext

__all__ = [
    "SET_QUOTA",
    "QuotaService",
    "check_memory_quota",
    "memory_limit",
    "memory_usage",
    "set_memory_quota",
]

SET_QUOTA = Schema(
    Field("user_id", "int", required=True, min=1, help="The user whose quota changes."),
    Field("max_memories", "int", min=0, max=2**31 - 1,
          help="Most memories the user may hold; 0: unlimited; null: back to ENGRAM_MEMORY_QUOTA."),
    description="Set or clear a user's memory quota (admin).",
)  # fmt: skip


def memory_usage(conn: Any, user_id: int) -> int:
    """How many live memories ``user_id`` holds (latest versions not in the trash)."""
    row = conn.execute(
        "SELECT count(*) FROM memories WHERE user_id = ? AND is_latest = 1 AND is_deleted = 0", (user_id,)
    ).fetchone()
    return int(row[0])


def memory_limit(conn: Any, user_id: int, default: int) -> tuple[int, str]:
    """(limit, source): the user's override when there is one ("user"), else ``default`` ("default")."""
    row = conn.execute("SELECT max_memories FROM user_quotas WHERE user_id = ?", (user_id,)).fetchone()
    if row is None:
        return max(0, default), "default"
    return int(row[0]), "user"


def check_memory_quota(conn: Any, user_id: int, default: int) -> None:
    """Raise ``QuotaExceeded`` when one more memory would put ``user_id`` over its limit."""
    limit, _ = memory_limit(conn, user_id, default)
    if limit > 0 and memory_usage(conn, user_id) >= limit:
        raise QuotaExceeded(f"memory quota reached ({limit} memories)")


def _report(conn: Any, user_id: int, default: int) -> dict[str, Any]:
    limit, source = memory_limit(conn, user_id, default)
    used = memory_usage(conn, user_id)
    return {
        "user_id": user_id,
        "memories": {
            "used": used,
            "limit": limit or None,
            "remaining": max(0, limit - used) if limit else None,
            "source": source,
        },
    }


def set_memory_quota(conn: Any, auth: AuthContext, user_id: int, limit: int | None, default: int) -> dict[str, Any]:
    """Set (or with ``limit=None`` clear) the override of ``user_id``; audited in the same transaction."""
    if conn.execute("SELECT 1 FROM users WHERE id = ?", (user_id,)).fetchone() is None:
        raise NotFound(f"user {user_id} not found")
    if limit is None:
        conn.execute("DELETE FROM user_quotas WHERE user_id = ?", (user_id,))
    else:
        conn.execute(
            "INSERT INTO user_quotas (user_id, max_memories, updated_at, updated_by) VALUES (?, ?, ?, ?)"
            " ON CONFLICT(user_id) DO UPDATE SET max_memories = excluded.max_memories,"
            " updated_at = excluded.updated_at, updated_by = excluded.updated_by",
            (user_id, limit, now_iso(), auth.user_id),
        )
    audit.record(conn, auth, "quota.set", "user", user_id, {"max_memories": limit})
    return _report(conn, user_id, default)


class QuotaService:
    """Quota reads for callers and quota changes for admins."""

    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings

    async def mine(self, auth: AuthContext) -> dict[str, Any]:
        """The caller's usage and limit."""
        auth.require("read")
        default = self.settings.memory_quota
        return await self.db.aread(lambda conn: _report(conn, auth.user_id, default))

    async def list_all(self, auth: AuthContext) -> dict[str, Any]:
        """Every user's usage and limit, and the default (admin)."""
        auth.require_admin()
        default = self.settings.memory_quota

        def run(conn: Any) -> dict[str, Any]:
            ids = [int(r[0]) for r in conn.execute("SELECT id FROM users ORDER BY id")]
            return {"default": default or None, "users": [_report(conn, uid, default) for uid in ids]}

        return await self.db.aread(run)

    async def set(self, auth: AuthContext, body: Any) -> dict[str, Any]:
        """Set or clear one user's memory quota (admin)."""
        auth.require_admin()
        data = SET_QUOTA.parse(body)
        default = self.settings.memory_quota
        return await self.db.awrite(
            lambda conn: set_memory_quota(conn, auth, data["user_id"], data["max_memories"], default)
        )
