"""Export and import: GET /export (NDJSON), POST /import, POST /import/mem0; GET /sync/changes, POST /sync/receive."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import IO, Any

from starlette.responses import StreamingResponse

from engram_core.portability.schemas import EXPORT, IMPORT_MEM0
from engram_core.portability.sync import CHANGES, RECEIVE

from ..routing import ApiRequest, api, read_raw

NDJSON = "application/x-ndjson"
CHUNK = 64 * 1024


async def _stream(out: IO[bytes]) -> AsyncIterator[bytes]:
    try:
        while chunk := await asyncio.to_thread(out.read, CHUNK):
            yield chunk
    finally:
        out.close()


async def export(r: ApiRequest) -> Any:
    """The caller's whole memory as NDJSON: memories with every version, links, entities, episodes, ..."""
    out = await r.engram.portability.export(r.auth, embeddings=r.query["embeddings"])
    headers = {"Content-Disposition": 'attachment; filename="engram-export.ndjson"'}
    return StreamingResponse(_stream(out), media_type=NDJSON, headers=headers)


async def import_(r: ApiRequest) -> Any:
    """Import an export (NDJSON or a JSON array of its records) or an array of memories, as the caller."""
    raw = await read_raw(r.request, r.engram.settings.max_upload_bytes)
    return 201, await r.engram.portability.import_body(r.auth, raw)


async def import_mem0(r: ApiRequest) -> Any:
    """Import a mem0 export or get_all answer: timestamps kept, mem0 user/agent/run ids as tags and sessions."""
    raw = await read_raw(r.request, r.engram.settings.max_upload_bytes)
    q = r.query
    return 201, await r.engram.portability.import_mem0_body(r.auth, raw, user_id=q["user_id"], space_id=q["space_id"])


async def sync_changes(r: ApiRequest) -> Any:
    """Your memory changes after a cursor, one per memory (its current state), for another Engram to apply."""
    return await r.engram.sync.changes(r.auth, r.query)


async def sync_receive(r: ApiRequest) -> Any:
    """Apply another Engram's changes (from its GET /sync/changes): idempotent, all or none."""
    return await r.engram.sync.receive(r.auth, r.body)


routes = [
    api("/export", export, query=EXPORT, tag="portability", produces=NDJSON, cost=20),
    api("/import", import_, methods=("POST",), scope="write", tag="portability", ok=(201,), cost=20,
        consumes=(NDJSON, "application/json")),
    api("/import/mem0", import_mem0, methods=("POST",), scope="write", query=IMPORT_MEM0, tag="portability",
        ok=(201,), cost=20, consumes=("application/json", NDJSON)),
    api("/sync/changes", sync_changes, query=CHANGES, tag="portability", cost=2),
    api("/sync/receive", sync_receive, methods=("POST",), scope="write", body=RECEIVE, tag="portability", cost=20),
]  # fmt: skip
