"""Admin maintenance: rebuild the FTS index, compact (FTS optimize + ANALYZE + VACUUM as a durable job),
garbage-collect (purge trash past retention, forget expired TTL), and describe the schema.

Every method checks the caller is an admin; the routes decide the HTTP status.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ..auth import audit
from ..auth.context import AuthContext
from ..jobs.queue import JobQueue, enqueue
from ..memories.writes import sweep_expired
from ..settings import Settings
from ..storage.database import Database
from ..timeutil import format_ts, now_iso

__all__ = ["Maintenance"]

FTS_TABLES = ("memories_fts", "messages_fts")


def _fts_tables(conn: Any) -> list[str]:
    names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    return [t for t in FTS_TABLES if t in names]


class Maintenance:
    def __init__(self, db: Database, settings: Settings, jobs: JobQueue) -> None:
        self.db = db
        self.settings = settings
        self.jobs = jobs
        jobs.register("compact", self._compact_job)

    def _sizes(self) -> dict[str, int]:
        path = Path(self.db.path)
        wal = path.with_name(path.name + "-wal")
        return {
            "db_bytes": path.stat().st_size if path.exists() else 0,
            "wal_bytes": wal.stat().st_size if wal.exists() else 0,
        }

    async def rebuild_fts(self, auth: AuthContext) -> dict[str, Any]:
        """Drop and rebuild every full-text index from its table, in one transaction."""
        auth.require_admin()

        def tx(conn: Any) -> dict[str, Any]:
            tables = _fts_tables(conn)
            for table in tables:
                conn.execute(f"INSERT INTO {table}({table}) VALUES ('rebuild')")
            rows = conn.execute("SELECT count(*) FROM memories_fts").fetchone()[0]
            audit.record(conn, auth, "admin.rebuild_fts", detail={"tables": tables})
            return {"rebuilt": tables, "memories_indexed": rows}

        return await self.db.awrite(tx)

    async def enqueue_compact(self, auth: AuthContext) -> dict[str, Any]:
        """Queue one compact job (unless one is queued or running already); returns it."""
        auth.require_admin()

        def tx(conn: Any) -> int:
            row = conn.execute(
                "SELECT id FROM jobs WHERE kind = 'compact' AND status IN ('queued', 'running')"
            ).fetchone()
            if row:
                return int(row[0])
            audit.record(conn, auth, "admin.compact")
            return enqueue(conn, "compact", {"requested_by": auth.user_id}, user_id=auth.user_id)

        job_id = await self.db.awrite(tx)
        return await self.jobs.get(job_id, None)

    async def _progress(self, step: str, progress: float) -> None:
        await self.db.awrite(
            lambda c: c.execute(
                "UPDATE jobs SET progress = ?, result = json_object('step', ?), updated_at = ?"
                " WHERE kind = 'compact' AND status = 'running'",
                (progress, step, now_iso()),
            )
        )

    async def _compact_job(self, payload: dict[str, Any], user_id: int | None) -> dict[str, Any]:
        before = self._sizes()
        await self._progress("fts_optimize", 0.1)

        def optimize(conn: Any) -> None:
            for table in _fts_tables(conn):
                conn.execute(f"INSERT INTO {table}({table}) VALUES ('optimize')")

        await self.db.awrite(optimize)
        await self._progress("analyze", 0.4)
        await self.db.awrite_raw("ANALYZE")
        await self._progress("vacuum", 0.6)
        await self.db.awrite_raw("VACUUM")
        await self.db.awrite_raw("PRAGMA wal_checkpoint(TRUNCATE)")
        return {
            "steps": ["fts_optimize", "analyze", "vacuum", "wal_checkpoint"],
            "before": before,
            "after": self._sizes(),
        }

    async def gc(self, auth: AuthContext) -> dict[str, Any]:
        """Purge every memory trashed longer than ENGRAM_TRASH_RETENTION_DAYS (all its versions) and
        forget memories past their TTL; one transaction."""
        auth.require_admin()
        cutoff = format_ts(datetime.now(UTC) - timedelta(days=self.settings.trash_retention_days))

        def tx(conn: Any) -> dict[str, Any]:
            roots = conn.execute(
                "SELECT DISTINCT user_id, coalesce(root_id, id) FROM memories"
                " WHERE is_latest = 1 AND is_deleted = 1 AND deleted_at IS NOT NULL AND deleted_at <= ?",
                (cutoff,),
            ).fetchall()
            purged = 0
            for user_id, root in roots:
                chain = "SELECT id FROM memories WHERE user_id = ? AND (root_id = ? OR id = ?)"
                ids = [r[0] for r in conn.execute(chain, (user_id, root, root))]
                marks = ", ".join("?" for _ in ids)
                conn.execute(f"UPDATE memories SET parent_id = NULL WHERE parent_id IN ({marks})", ids)
                conn.execute(
                    f"DELETE FROM memory_links WHERE source_id IN ({marks}) OR target_id IN ({marks})", ids + ids
                )
                conn.execute(f"DELETE FROM memories WHERE id IN ({marks})", ids)
                purged += 1
            expired = sweep_expired(conn)
            result = {"purged": purged, "expired": expired, "trash_cutoff": cutoff}
            audit.record(conn, auth, "admin.gc", detail=result)
            return result

        return await self.db.awrite(tx)

    async def schema(self, auth: AuthContext) -> dict[str, Any]:
        """Schema version (applied migrations), tables with row counts, indexes, SQLite version."""
        auth.require_admin()

        def run(conn: Any) -> dict[str, Any]:
            objects = conn.execute(
                "SELECT type, name, tbl_name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name"
            ).fetchall()
            tables = [r["name"] for r in objects if r["type"] == "table"]
            migrations = [r[0] for r in conn.execute("SELECT name FROM schema_migrations ORDER BY name")]
            return {
                "sqlite_version": conn.execute("SELECT sqlite_version()").fetchone()[0],
                "migrations": migrations,
                "version": migrations[-1] if migrations else None,
                "tables": {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables},
                "indexes": [r["name"] for r in objects if r["type"] == "index"],
                "triggers": [r["name"] for r in objects if r["type"] == "trigger"],
                **self._sizes(),
            }

        return await self.db.aread(run)
