"""A durable job queue in SQLite for the work that follows a commit (auto-link, embedding backfill, ...).

A job is enqueued *inside* the write transaction of the change that needs it, so the change and its
follow-up commit together: a crash between the commit and the work loses nothing, because the job row
is there on restart (jobs left ``running`` by a crash are queued again). The worker wakes up from the
database's change feed: any committed transaction that inserted a job row wakes it (no writer has to
call :meth:`JobQueue.wake`). Failures retry with
exponential backoff up to ``max_attempts``, then stay ``failed`` until ``POST /jobs/{id}/retry``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from ..errors import Conflict, NotFound
from ..storage.changes import ChangeSet
from ..storage.database import Database
from ..timeutil import format_ts, now_iso
from ..validation import Field, Schema
from .durable import claim_tx, drain, requeue_claimed, retry_after, work_loop

__all__ = ["JOBS", "JobQueue", "enqueue"]

JOBS = Schema(
    Field("status", "str", choices=("queued", "running", "done", "failed")),
    Field("limit", "int", default=100, min=1, max=1000),
    Field("all", "bool", default=False, help="Admins: every user's jobs."),
)

log = logging.getLogger("engram.jobs")
Handler = Callable[[dict[str, Any], int | None], Awaitable[Any]]


def enqueue(conn: Any, kind: str, payload: dict[str, Any], *, user_id: int | None = None, delay: float = 0.0) -> int:
    """Add a job inside the caller's write transaction; returns its id."""
    now = datetime.now(UTC)
    cur = conn.execute(
        "INSERT INTO jobs (user_id, kind, payload, status, run_after, created_at, updated_at)"
        " VALUES (?, ?, ?, 'queued', ?, ?, ?)",
        (user_id, kind, json.dumps(payload), format_ts(now + timedelta(seconds=delay)), format_ts(now), format_ts(now)),
    )
    return int(cur.lastrowid)


def _job_row(r: Any) -> dict[str, Any]:
    return {
        "id": r["id"],
        "user_id": r["user_id"],
        "kind": r["kind"],
        "payload": json.loads(r["payload"]),
        "status": r["status"],
        "attempts": r["attempts"],
        "run_after": r["run_after"],
        "last_error": r["last_error"],
        "progress": r["progress"],
        "result": json.loads(r["result"]) if r["result"] else None,
        "created_at": r["created_at"],
        "updated_at": r["updated_at"],
    }


async def _poll_interval() -> float:
    return 1.0  # the change feed wakes the worker for new jobs; this catches retries falling due


class JobQueue:
    """Runs queued jobs on the event loop, a few at a time, with retries and backoff."""

    def __init__(
        self,
        db: Database,
        *,
        max_attempts: int = 5,
        base_delay: float = 2.0,
        concurrency: int = 2,
        start_delay: float = 0.0,
    ) -> None:
        self.db = db
        self.start_delay = start_delay
        self.max_attempts = max_attempts
        self.base_delay = base_delay
        self.concurrency = concurrency
        self.handlers: dict[str, Handler] = {}
        self.background: set[str] = set()  # kinds claimed after every other due job (see register)
        self._wake: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._idle: asyncio.Event | None = None
        self.on_failure: Callable[[str, bool], None] | None = None  # (kind, gave up) per failed attempt (metrics)
        db.subscribe(self.on_changes)

    def register(self, kind: str, handler: Handler, *, background: bool = False) -> None:
        """``handler(payload, user_id)`` runs one job; raising schedules a retry.

        ``background``: the follow-up work of stores (auto-link, understanding), of which an ingest queues
        thousands; a due job of any other kind (an ingest, a re-embed someone asked for) is claimed before
        them instead of waiting behind the backlog in id order."""
        self.handlers[kind] = handler
        if background:
            self.background.add(kind)
        else:
            self.background.discard(kind)

    def on_changes(self, changes: ChangeSet) -> None:
        """The change-feed listener: a committed job row means work (write thread; only schedules)."""
        if changes.of("jobs", ("created",)):
            self.wake()

    def wake(self) -> None:
        """Tell the worker there may be new work (safe from any thread)."""
        if self._loop is not None and self._wake is not None:
            self._loop.call_soon_threadsafe(self._wake.set)

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        await requeue_claimed(self.db, "jobs", "running")
        self._task = asyncio.create_task(self._run(), name="engram-jobs")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def drain(self, timeout: float = 30.0) -> None:
        """Wait until no job is due (tests and scripts)."""
        await drain(self.db, "jobs", "running", self.wake, timeout, "jobs")

    async def _claim(self) -> list[Any]:
        background = sorted(self.background)
        order = f"kind IN ({', '.join('?' * len(background))}), id" if background else "id"

        def tx(conn: Any) -> list[Any]:
            rows = conn.execute(
                f"SELECT * FROM jobs WHERE status = 'queued' AND run_after <= ? ORDER BY {order} LIMIT ?",
                (now_iso(), *background, self.concurrency * 4),
            ).fetchall()
            return claim_tx(conn, "jobs", "running", rows)

        rows: list[Any] = await self.db.awrite(tx)
        return rows

    async def _run(self) -> None:
        assert self._wake is not None
        if self.start_delay > 0:  # ENGRAM_JOBS_START_DELAY: leave queued jobs alone for a while
            await asyncio.sleep(self.start_delay)
        await work_loop(self._wake, self._claim, self._execute, concurrency=self.concurrency,
                        idle_wait=_poll_interval, log=log, what="jobs")  # fmt: skip

    async def _execute(self, row: Any) -> None:
        job_id = row["id"]
        handler = self.handlers.get(row["kind"])
        try:
            if handler is None:
                raise LookupError(f"no handler for job kind {row['kind']!r}")
            result = await handler(json.loads(row["payload"]), row["user_id"])
        except Exception as exc:
            attempts = row["attempts"] + 1
            retry = retry_after(attempts, base_delay=self.base_delay, max_attempts=self.max_attempts)
            log.warning("job %s (%s) failed, attempt %s: %s", job_id, row["kind"], attempts, exc)
            error = f"{type(exc).__name__}: {exc}"[:2000]
            status = "failed" if retry.final else "queued"
            await self.db.awrite(
                lambda c: c.execute(
                    "UPDATE jobs SET status = ?, last_error = ?, run_after = ?, updated_at = ? WHERE id = ?",
                    (status, error, retry.run_after, now_iso(), job_id),
                )
            )
            if self.on_failure is not None:  # counted once the attempt's outcome is committed
                self.on_failure(str(row["kind"]), retry.final)
            return
        await self.db.awrite(
            lambda c: c.execute(
                "UPDATE jobs SET status = 'done', progress = 1.0, result = ?, last_error = NULL, updated_at = ?"
                " WHERE id = ?",
                (json.dumps(result) if result is not None else None, now_iso(), job_id),
            )
        )

    # -- queries for the routes -----------------------------------------------------------------------
    async def list(self, user_id: int | None, *, status: str | None, limit: int) -> list[dict[str, Any]]:
        def run(conn: Any) -> list[dict[str, Any]]:
            sql, args = "SELECT * FROM jobs WHERE 1 = 1", list[Any]()
            if user_id is not None:
                sql += " AND user_id = ?"
                args.append(user_id)
            if status:
                sql += " AND status = ?"
                args.append(status)
            sql += " ORDER BY id DESC LIMIT ?"
            args.append(limit)
            return [_job_row(r) for r in conn.execute(sql, args)]

        return await self.db.aread(run)

    async def get(self, job_id: int, user_id: int | None) -> dict[str, Any]:
        row = await self.db.aread(lambda c: c.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone())
        if row is None or (user_id is not None and row["user_id"] != user_id):
            raise NotFound(f"job {job_id} not found")
        return _job_row(row)

    async def retry(self, job_id: int, user_id: int | None) -> dict[str, Any]:
        def tx(conn: Any) -> None:
            row = conn.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
            if row is None or (user_id is not None and row["user_id"] != user_id):
                raise NotFound(f"job {job_id} not found")
            if row["status"] != "failed":
                raise Conflict(f"job {job_id} is {row['status']}, only failed jobs are retried")
            conn.execute(
                "UPDATE jobs SET status = 'queued', attempts = 0, run_after = ?, updated_at = ? WHERE id = ?",
                (now_iso(), now_iso(), job_id),
            )

        await self.db.awrite(tx)
        self.wake()
        return await self.get(job_id, user_id)
