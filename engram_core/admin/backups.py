"""Online backups of the live database, for the server: a download and an integrity check.

A backup is ``crypto.dbops.backup_database``: the SQLite backup API from a fresh connection of the live
file into a new file, encrypted with the same key (an encrypted database gives an encrypted backup, never
a plain one), checked with ``integrity_check`` before it is handed out. Work files live under
``<data dir>/backups/`` (never /tmp) and are named ``.tmp-*``: a download is opened, then unlinked at
once, so its bytes stay reachable only through the open file while it streams, and a crash leaves at
most a ``.tmp-*`` file that the next start removes. ``keep=True`` keeps the copy as
``backups/engram-<UTC timestamp>.db`` instead, which is what "verify the latest backup" checks.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, TypeVar

from ..auth import audit
from ..auth.context import AuthContext
from ..crypto.dbops import backup_database, integrity_problems, table_counts
from ..crypto.keys import challenge_path, file_state
from ..errors import DbOpError, NotFound
from ..settings import Settings
from ..storage.connection import connect
from ..storage.database import Database
from ..validation import Field, Schema

__all__ = ["BACKUP", "VERIFY", "BackupFile", "BackupService"]

BACKUP = Schema(Field("keep", "bool", default=False, help="Also keep the copy in <data dir>/backups."))
VERIFY = Schema(
    Field("target", "str", default="live", choices=("live", "latest"),
          help="live: the running database; latest: the newest kept backup."),
    description="Integrity check of the live database or of the latest kept backup.",
)  # fmt: skip

T = TypeVar("T")
TMP_PREFIX = ".tmp-"


@dataclass
class BackupFile:
    """A finished backup, open for reading. ``path`` is None when the file is already unlinked."""

    file: IO[bytes]
    size: int
    filename: str
    encrypted: bool
    tables: dict[str, int]
    path: Path | None
    challenge: bytes | None

    def close(self) -> None:
        self.file.close()


class BackupService:
    """Makes and verifies backups of one Engram database on its own single worker thread."""

    def __init__(self, settings: Settings, db: Database) -> None:
        self.settings = settings
        self.db = db
        self.dir = settings.data_dir / "backups"
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="engram-backup")

    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)

    def sweep_stale(self) -> int:
        """Remove work files a crash left behind; returns how many."""
        removed = 0
        if self.dir.is_dir():
            for path in self.dir.glob(TMP_PREFIX + "*"):
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
                    removed += 1
        return removed

    def close(self) -> None:
        self._pool.shutdown(wait=True)

    # -- making a backup ------------------------------------------------------------------------------
    def _make(self, keep: bool) -> BackupFile:
        self.dir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.dir, 0o700)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        name = f"engram-{stamp}.db"
        dest = self.dir / (name if keep else f"{TMP_PREFIX}{uuid.uuid4().hex}.db")
        key = self.db.key
        result = backup_database(self.db.path, dest, key)
        side = challenge_path(dest)
        challenge = side.read_bytes() if side.exists() else None
        f = open(dest, "rb")  # noqa: SIM115 - handed to the caller, closed after streaming
        try:
            size = os.fstat(f.fileno()).st_size
            if not keep:
                dest.unlink()  # the open file keeps the bytes; the name is gone before a byte is sent
                side.unlink(missing_ok=True)
        except BaseException:
            f.close()
            raise
        return BackupFile(f, size, name, key is not None, result.tables, dest if keep else None, challenge)

    async def create(self, auth: AuthContext, *, keep: bool = False) -> BackupFile:
        """A consistent online copy of the live database, encrypted like it (admin). Audited."""
        auth.require_admin()
        backup = await self._run(self._make, keep)
        try:
            detail = {"bytes": backup.size, "kept": keep, "encrypted": backup.encrypted}
            await self.db.awrite(lambda conn: audit.record(conn, auth, "backup.create", "database", None, detail))
        except BaseException:
            backup.close()
            raise
        return backup

    async def read_chunk(self, backup: BackupFile, size: int = 256 * 1024) -> bytes:
        """The next chunk of ``backup`` (read off the event loop)."""
        return await self._run(backup.file.read, size)

    # -- verifying ------------------------------------------------------------------------------------
    def latest(self) -> Path:
        """The newest kept backup in the backups directory."""
        found = sorted(self.dir.glob("engram-*.db")) if self.dir.is_dir() else []
        if not found:
            raise NotFound("no kept backup yet: GET /backup?keep=true or `engram db backup` into the backups dir")
        return found[-1]

    def _check(self, target: str) -> dict[str, Any]:
        path = self.db.path if target == "live" else self.latest()
        key = self.db.key
        state = file_state(path)
        if state == "missing":
            raise DbOpError(f"{path.name} does not exist (or is empty)")
        if key is not None and state != "encrypted":
            raise DbOpError(f"{path.name} is {state}, but this database is encrypted")
        # Read-only on the live file (the server owns it). A kept backup is opened read-write so that
        # closing it removes its -wal/-shm again; the check itself never writes.
        conn = connect(path, key=key, read_only=target == "live")
        try:
            problems = integrity_problems(conn, encrypted=key is not None)
            tables = table_counts(conn) if not problems else {}
        finally:
            conn.close()
        return {
            "target": target,
            "file": path.name,
            "ok": not problems,
            "problems": problems[:20],
            "encrypted": key is not None,
            "tables": tables,
        }

    async def verify(self, auth: AuthContext, body: Any) -> dict[str, Any]:
        """``integrity_check`` (plus ``cipher_integrity_check`` when encrypted) of the live database or of
        the latest kept backup (admin); ``body`` is :data:`VERIFY`."""
        auth.require_admin()
        return await self._run(self._check, VERIFY.parse(body)["target"])
