"""Bulk ingestion as a durable, resumable, cancellable job.

``submit`` checks the upload (format by content, parse, zip safety: a clear 400 for each refusal), keeps it
under ``<data dir>/ingest/`` and enqueues an ``ingest`` job in one transaction. The job uses the documents
``submit`` parsed when it runs in the same process soon after (the last ``PARSED_KEPT`` submits are kept in
memory); otherwise (a restart, a resume) it parses the file again (deterministically: the same chunks in the
same order). It stores ``ENGRAM_INGEST_BATCH`` chunks per
transaction (``MemoryService.prepare_many`` then ``write_many``: vectors embedded together, outside the
transaction); the same transaction adds the chunks to their document's or conversation's episode and
advances the job's cursor. The next batch is embedded while one is written (a pipeline of two stages). A
crash between batches resumes at the cursor: no chunk stored twice, none lost. Between batches the job
yields, and its embeddings go in the embedder's bulk lane, so interactive searches are not starved.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..auth.context import AuthContext
from ..errors import Conflict, Invalid, NotFound
from ..jobs.queue import JobQueue, enqueue
from ..memories.schemas import STORE
from ..memories.service import MemoryService
from ..memories.written import PreparedBatch
from ..settings import Settings
from ..storage.database import Database
from ..timeutil import now_iso
from .archive import ZipLimits
from .formats import Document, Splitter, detect, parse

__all__ = ["IngestService"]

OVERLAP_FRACTION = 0.1
PARSED_KEPT = 2  # submits whose parsed documents are kept for their job (the queue runs one ingest at a time)


@dataclass(frozen=True)
class _Prepared:
    """One batch ready to write: how many items it covers, the document of each body, the refusals."""

    size: int
    owners: list[int]
    failed: list[str]
    ready: PreparedBatch | None  # None: every item of the batch was refused


class IngestService:
    def __init__(self, db: Database, settings: Settings, memories: MemoryService, jobs: JobQueue) -> None:
        self.db = db
        self.settings = settings
        self.memories = memories
        self.jobs = jobs
        self.dir = settings.data_dir / "ingest"
        self.limits = ZipLimits(max_total_bytes=max(settings.max_upload_bytes * 8, 64 * 1024 * 1024))
        self._parsed: dict[str, list[Document]] = {}  # upload token -> what submit parsed (oldest first)
        jobs.register("ingest", self._run)

    def splitter(self) -> Splitter:
        vectors = self.memories.vectors
        window = self.settings.max_seq_length
        info = getattr(vectors.embedder, "info", None)
        if info is not None and getattr(info, "max_tokens", None):
            window = min(window, int(info.max_tokens))
        return Splitter(vectors.count_tokens, max(32, window - 4), int(window * OVERLAP_FRACTION))

    def _parse(self, data: bytes, name: str, fmt: str | None) -> list[Document]:
        return parse(data, name, fmt, self.splitter(), self.limits)

    # -- submit ---------------------------------------------------------------------------------------
    async def submit(self, auth: AuthContext, data: bytes, fields: dict[str, Any]) -> dict[str, Any]:
        """Check and keep the upload, then enqueue its job; returns ``{job_id, found, format, ...}``."""
        auth.require("write")
        if not data.strip():
            raise Invalid("file", "is empty")
        name = str(fields.get("filename") or "upload")[:300]
        fmt = fields.get("format") or await asyncio.to_thread(detect, data, name)
        docs = await asyncio.to_thread(self._parse, data, name, fmt)
        found = sum(len(d.chunks) for d in docs)
        if found == 0:
            raise Invalid("file", "holds no text to store")
        token = secrets.token_hex(16)
        self.dir.mkdir(parents=True, exist_ok=True)
        path = self.dir / f"{token}.upload"
        await asyncio.to_thread(_write_durably, path, data)
        payload = {"token": token, "name": name, "format": fmt, "source": fields.get("source"),
                   "tags": fields.get("tags") or [], "found": found, "documents": len(docs),
                   "bytes": len(data)}  # fmt: skip
        state: dict[str, Any] = {"cursor": 0, "found": found, "stored": 0, "duplicates": 0, "failed": 0, "episodes": {},
                 "bytes": len(data), "documents": len(docs), "format": fmt, "errors": []}  # fmt: skip

        def tx(conn: Any) -> int:
            job_id = enqueue(conn, "ingest", payload, user_id=auth.user_id)
            conn.execute("UPDATE jobs SET result = ? WHERE id = ?", (json.dumps(state), job_id))
            return job_id

        self._parsed[token] = docs  # before the job can start; dropped below if the enqueue fails
        while len(self._parsed) > PARSED_KEPT:
            self._parsed.pop(next(iter(self._parsed)))
        try:
            job_id = await self.db.awrite(tx)
        except BaseException:
            self._parsed.pop(token, None)
            path.unlink(missing_ok=True)
            raise
        return {"job_id": job_id, "status": "queued", "format": fmt, "found": found, "documents": len(docs),
                "bytes": len(data)}  # fmt: skip

    # -- the job --------------------------------------------------------------------------------------
    async def _run(self, payload: dict[str, Any], user_id: int | None) -> dict[str, Any]:
        token = str(payload["token"])
        row = await self.db.aread(lambda c: c.execute(
            "SELECT id, result FROM jobs WHERE kind = 'ingest' AND json_extract(payload, '$.token') = ?", (token,)
        ).fetchone())  # fmt: skip
        if row is None or user_id is None:
            raise LookupError(f"ingest job {token} has no row")
        job_id, state = int(row[0]), json.loads(row[1] or "{}")
        path = self.dir / f"{token}.upload"
        docs = self._parsed.pop(token, None)
        if state.get("cancel"):
            path.unlink(missing_ok=True)
            return {**state, "cancelled": True}
        if docs is None:  # submitted before a restart, or pushed out by later submits: parse the kept upload
            data = await asyncio.to_thread(path.read_bytes)
            docs = await asyncio.to_thread(self._parse, data, str(payload["name"]), payload.get("format"))
        items = [(i, c) for i, d in enumerate(docs) for c in d.chunks]
        auth = AuthContext(user_id=user_id, scopes=("read", "write"))
        batch = max(1, self.settings.ingest_batch)
        state.setdefault("started_at", time.time() - float(state.get("elapsed", 0.0)))
        # A pipeline of two stages: the next batch is validated and embedded while this one is written (the
        # write thread and the embed threads work at once). Only the write advances the cursor, in the batch's
        # own transaction, so a crash or a cancel throws away only the embedding done ahead, never a stored chunk.
        ahead: asyncio.Task[_Prepared] | None = None
        try:
            while state["cursor"] < len(items):
                if await self.db.aread(lambda c: _cancelled(c, job_id)):
                    state["cancel"] = True
                    break
                start = state["cursor"]
                ready = await (
                    ahead if ahead is not None else self._prepare(auth, payload, docs, items[start : start + batch])
                )
                following = items[start + batch : start + 2 * batch]
                ahead = asyncio.ensure_future(self._prepare(auth, payload, docs, following)) if following else None
                await self._write(auth, job_id, docs, ready, state)
                await asyncio.sleep(0)  # let interactive requests in between batches
        finally:
            if ahead is not None:  # the job stops (cancelled, failed, done): drop the batch embedded ahead
                ahead.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await ahead
        path.unlink(missing_ok=True)
        return {**state, "cancelled": bool(state.get("cancel"))}

    async def _prepare(
        self, auth: AuthContext, payload: dict[str, Any], docs: list[Document], items: list[Any]
    ) -> _Prepared:
        """A batch's store bodies (a chunk the store schema refuses is counted failed) and their vectors."""
        bodies: list[dict[str, Any]] = []
        owners: list[int] = []
        failed: list[str] = []
        for doc_index, chunk in items:
            doc = docs[doc_index]
            tags = list(dict.fromkeys([*payload.get("tags", []), *doc.tags, *chunk.tags]))[:50]
            body = {"content": chunk.content, "category": chunk.category or doc.category, "tags": tags,
                    "source": payload.get("source") or f"ingest:{doc.format}:{doc.title}"[:200],
                    "created_at": chunk.created_at, "session_id": doc.session_id}  # fmt: skip
            body = {k: v for k, v in body.items() if v is not None}
            try:
                STORE.parse(body)
            except Invalid as exc:
                failed.append(f"{doc.title}: {exc}")
                continue
            bodies.append(body)
            owners.append(doc_index)
        ready = await self.memories.prepare_many(auth, bodies) if bodies else None
        return _Prepared(len(items), owners, failed, ready)

    async def _write(
        self, auth: AuthContext, job_id: int, docs: list[Document], batch: _Prepared, state: dict[str, Any]
    ) -> None:
        """Store a prepared batch, add it to its episodes and advance the cursor: one transaction."""
        owners, failed = batch.owners, batch.failed
        new = dict(state)
        new["cursor"] = state["cursor"] + batch.size
        new["failed"] = state["failed"] + len(failed)
        new["errors"] = (state.get("errors", []) + failed)[-20:]
        new["bytes_done"] = int(state["bytes"] * new["cursor"] / max(1, state["found"]))
        new["elapsed"] = round(time.time() - float(state["started_at"]), 3)

        def in_tx(conn: Any, results: list[dict[str, Any]]) -> None:
            episodes = dict(new["episodes"])
            now = now_iso()
            for doc_index, result in zip(owners, results, strict=True):
                memory_id = result.get("id") if result.get("stored") else result.get("existing_id")
                key = str(doc_index)
                if key not in episodes:
                    doc = docs[doc_index]
                    cur = conn.execute(
                        "INSERT INTO episodes (user_id, title, summary, session_id, status, started_at, ended_at,"
                        " created_at, updated_at) VALUES (?, ?, ?, ?, 'finalized', ?, ?, ?, ?)",
                        (auth.user_id, doc.title, f"{doc.format} {doc.kind}: {len(doc.chunks)} part(s)",
                         doc.session_id, doc.started_at or now, now, now, now),
                    )  # fmt: skip
                    episodes[key] = int(cur.lastrowid)
                conn.execute(
                    "INSERT OR IGNORE INTO episode_memories (episode_id, memory_id, user_id, position, added_at)"
                    " SELECT ?, ?, ?, coalesce(max(position), -1) + 1, ? FROM episode_memories WHERE episode_id = ?",
                    (episodes[key], memory_id, auth.user_id, now, episodes[key]),
                )
            new["episodes"] = episodes
            new["stored"] = state["stored"] + sum(1 for r in results if r.get("stored"))
            new["duplicates"] = state["duplicates"] + sum(1 for r in results if not r.get("stored"))
            progress = new["cursor"] / max(1, new["found"])
            conn.execute("UPDATE jobs SET result = ?, progress = ?, updated_at = ? WHERE id = ?",
                         (json.dumps(new), progress, now, job_id))  # fmt: skip

        if batch.ready is not None:
            await self.memories.write_many(auth, batch.ready, in_tx=in_tx)
        else:
            await self.db.awrite(lambda conn: in_tx(conn, []))
        state.clear()
        state.update(new)

    # -- progress and cancel --------------------------------------------------------------------------
    async def job(self, job_id: int, user_id: int | None) -> dict[str, Any]:
        """A job as ``GET /jobs/{id}`` shows it; an ingest job with its counts and ETA."""
        job = await self.jobs.get(job_id, user_id)
        if job["kind"] == "ingest":
            job["ingest"] = _view(job)
            job["result"] = None if job["status"] != "done" else job["ingest"]
        return job

    async def cancel(self, job_id: int, user_id: int | None) -> dict[str, Any]:
        """Cancel a queued or running job (a running ingest stops before its next batch)."""

        def tx(conn: Any) -> None:
            row = conn.execute("SELECT user_id, status FROM jobs WHERE id = ?", (job_id,)).fetchone()
            if row is None or (user_id is not None and row["user_id"] != user_id):
                raise NotFound(f"job {job_id} not found")
            if row["status"] in ("done", "failed"):
                raise Conflict(f"job {job_id} is {row['status']} already")
            conn.execute("UPDATE jobs SET result = json_set(coalesce(result, '{}'), '$.cancel', json('true')),"
                         " updated_at = ? WHERE id = ?", (now_iso(), job_id))  # fmt: skip
            if row["status"] == "queued":
                conn.execute("UPDATE jobs SET status = 'failed', last_error = 'cancelled' WHERE id = ?", (job_id,))

        await self.db.awrite(tx)
        return await self.job(job_id, user_id)


def _cancelled(conn: Any, job_id: int) -> bool:
    return bool(conn.execute("SELECT json_extract(result, '$.cancel') FROM jobs WHERE id = ?", (job_id,)).fetchone()[0])


def _view(job: dict[str, Any]) -> dict[str, Any]:
    state = job.get("result") or {}
    found, cursor = int(state.get("found", 0)), int(state.get("cursor", 0))
    elapsed = float(state.get("elapsed", 0.0))
    eta = round(elapsed / cursor * (found - cursor), 1) if cursor and found > cursor else (0.0 if cursor else None)
    cancelled = bool(state.get("cancel"))
    phase = "cancelled" if cancelled and job["status"] in ("done", "failed") else job["status"]
    return {"state": phase, "format": state.get("format"), "documents": state.get("documents"), "found": found,
            "processed": cursor, "stored": state.get("stored", 0), "duplicates": state.get("duplicates", 0),
            "failed": state.get("failed", 0), "bytes": state.get("bytes", 0), "bytes_done": state.get("bytes_done", 0),
            "elapsed_seconds": elapsed, "eta_seconds": eta, "errors": state.get("errors", [])}  # fmt: skip


def _write_durably(path: Path, data: bytes) -> None:
    tmp = path.with_suffix(".part")
    with tmp.open("wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    tmp.replace(path)
