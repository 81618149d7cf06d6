"""Backups and quotas: GET /backup, POST /backup/verify, GET /quota, GET and PUT /admin/quotas."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from starlette.responses import StreamingResponse

from engram_core.admin.backups import BACKUP, VERIFY, BackupFile
from engram_core.auth.quotas import SET_QUOTA

from ..routing import ApiRequest, api


async def _stream(r: ApiRequest, backup: BackupFile) -> AsyncIterator[bytes]:
    try:
        while chunk := await r.engram.backups.read_chunk(backup):
            yield chunk
    finally:
        backup.close()


async def backup(r: ApiRequest) -> Any:
    """Download a consistent online backup of the database, encrypted like it (admin)."""
    made = await r.engram.backups.create(r.auth, keep=r.query["keep"])
    headers = {
        "Content-Disposition": f'attachment; filename="{made.filename}"',
        "Content-Length": str(made.size),
        "X-Engram-Encrypted": "true" if made.encrypted else "false",
    }
    if made.challenge is not None:
        headers["X-Engram-Key-Challenge"] = made.challenge.hex()  # yubikey mode: needed to open the copy
    return StreamingResponse(_stream(r, made), media_type="application/vnd.sqlite3", headers=headers)


async def verify(r: ApiRequest) -> Any:
    """Integrity check of the live database or of the latest kept backup (admin)."""
    return await r.engram.backups.verify(r.auth, r.body)


async def my_quota(r: ApiRequest) -> Any:
    """The caller's memory usage and quota."""
    return await r.engram.quotas.mine(r.auth)


async def list_quotas(r: ApiRequest) -> Any:
    """Every user's memory usage and quota (admin)."""
    return await r.engram.quotas.list_all(r.auth)


async def set_quota(r: ApiRequest) -> Any:
    """Set or clear a user's memory quota (admin)."""
    return await r.engram.quotas.set(r.auth, r.body)


routes = [
    api("/backup", backup, scope="admin", query=BACKUP, tag="admin", produces="application/vnd.sqlite3", cost=50),
    api("/backup/verify", verify, methods=("POST",), scope="admin", body=VERIFY, tag="admin"),
    api("/quota", my_quota, tag="auth"),
    api("/admin/quotas", list_quotas, scope="admin", tag="admin"),
    api("/admin/quotas", set_quota, methods=("PUT",), scope="admin", body=SET_QUOTA, tag="admin"),
]
