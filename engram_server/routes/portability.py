"""Export and import: GET /export (NDJSON), POST /import."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import IO, Any

from starlette.responses import StreamingResponse

from engram_core.portability.schemas import EXPORT

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


routes = [
    api("/export", export, query=EXPORT, tag="portability", produces=NDJSON, cost=20),
    api("/import", import_, methods=("POST",), scope="write", tag="portability", ok=(201,), cost=20,
        consumes=(NDJSON, "application/json")),
]  # fmt: skip
