"""Bulk ingestion: POST /ingest (multipart upload or JSON text) -> 202 {job_id}; POST /ingest/stream
(the same, answered with the job's progress as Server-Sent Events); GET /jobs/{id}; POST /jobs/{id}/cancel."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from engram_core.auth.limits import check_raw_json_depth
from engram_core.errors import Invalid
from engram_core.portability.schemas import INGEST

from ..routing import ApiRequest, api, read_raw
from ..sse import EventStream

CONSUMES = ("multipart/form-data", "application/json")


async def _upload(r: ApiRequest) -> tuple[bytes, dict[str, Any]]:
    settings = r.engram.settings
    raw = await read_raw(r.request, settings.max_upload_bytes)
    ctype = r.request.headers.get("content-type", "")
    if ctype.startswith("multipart/form-data"):
        r.request._body = raw  # the form parser reads the body already read (and size-checked) here
        try:
            form = await r.request.form(max_files=1, max_fields=20)
        except Exception as exc:  # malformed multipart, more than one file
            raise Invalid("body", f"is not a readable multipart form: {exc}") from None
        try:
            upload = form.get("file")
            if upload is None or isinstance(upload, str):
                raise Invalid("file", "is required: a file part named 'file'")
            data, filename = await upload.read(), upload.filename
            fields: dict[str, Any] = {k: v for k, v in form.items() if isinstance(v, str)}
        finally:
            await form.close()
        fields["tags"] = [t for t in fields.get("tags", "").split(",") if t.strip()]
        fields = INGEST.parse({**fields, "text": "-"})
        fields["filename"] = fields.get("filename") or filename
        return data, fields
    if not raw.strip():
        raise Invalid("body", "is empty: send JSON {text, format?} or a multipart upload")
    check_raw_json_depth(raw, settings.max_json_depth)
    try:
        body = json.loads(raw.decode("utf-8-sig"))
    except (ValueError, UnicodeDecodeError):
        raise Invalid("body", "is not valid JSON (or send multipart/form-data)") from None
    if not isinstance(body, dict):
        raise Invalid("body", "must be a JSON object")
    fields = INGEST.parse(body)
    return fields.pop("text").encode("utf-8"), fields


async def ingest(r: ApiRequest) -> Any:
    """Start an ingest job for an upload or text: 202 {job_id, found, format}."""
    data, fields = await _upload(r)
    return 202, await r.engram.ingest.submit(r.auth, data, fields)


async def ingest_stream(r: ApiRequest) -> Any:
    """Start an ingest job and follow its progress as Server-Sent Events (ends with 'done')."""
    data, fields = await _upload(r)
    made = await r.engram.ingest.submit(r.auth, data, fields)

    async def events() -> AsyncIterator[list[dict[str, Any]] | None]:
        n, last = 0, None
        while True:
            job = await r.engram.ingest.job(made["job_id"], r.auth.user_id)
            view = {"job_id": made["job_id"], "status": job["status"], **job["ingest"]}
            finished = job["status"] in ("done", "failed")
            if view != last or finished:
                n += 1
                yield [{"id": n, "action": "done" if finished else "progress", **view}]  # a batch of one
                last = view
            if finished:
                return
            await asyncio.sleep(0.25)

    return EventStream(events(), send_timeout=r.engram.settings.axon_send_timeout_seconds)


async def job(r: ApiRequest) -> Any:
    """One job; an ingest job with found, stored, duplicates, failed, bytes and ETA."""
    return await r.engram.ingest.job(r.path_int(), None if r.auth.is_admin else r.auth.user_id)


async def cancel(r: ApiRequest) -> Any:
    """Cancel a queued or running job."""
    return await r.engram.ingest.cancel(r.path_int(), None if r.auth.is_admin else r.auth.user_id)


routes = [
    api("/ingest", ingest, methods=("POST",), scope="write", tag="ingest", ok=(202,), cost=20, consumes=CONSUMES),
    api("/ingest/stream", ingest_stream, methods=("POST",), scope="write", tag="ingest", cost=20,
        consumes=CONSUMES, produces="text/event-stream"),
    api("/jobs/{id:int}", job, tag="jobs"),
    api("/jobs/{id:int}/cancel", cancel, methods=("POST",), scope="write", tag="jobs"),
]  # fmt: skip
