"""The claim/lease/retry rules of a durable queue table, shared by the job queue (``jobs``) and the
webhook sender (``webhook_deliveries``).

A queue row is ``queued`` with a ``run_after`` time and an ``attempts`` count. A worker claims the due
rows in one write transaction (status -> the table's *claimed* status, attempts + 1), works on them, then
marks each done, or queued again after ``base_delay * 2**(attempts - 1)`` seconds, or given up after
``max_attempts``. Rows left claimed by a crash are queued again when the worker starts (the lease is the
process: a claimed row belongs to the process that claimed it, and no process outlives a restart).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from ..storage.database import Database
from ..timeutil import format_ts, now_iso

__all__ = ["Retry", "claim_tx", "drain", "requeue_claimed", "retry_after", "work_loop"]


def claim_tx(conn: Any, table: str, claimed: str, rows: Sequence[Any]) -> list[Any]:
    """Mark ``rows`` (just selected as due, in this transaction) claimed, counting the attempt."""
    now = now_iso()
    for r in rows:
        conn.execute(f"UPDATE {table} SET status = ?, attempts = attempts + 1, updated_at = ? WHERE id = ?",
                     (claimed, now, r["id"]))  # fmt: skip
    return list(rows)


async def requeue_claimed(db: Database, table: str, claimed: str) -> None:
    """At start: rows a crashed process had claimed are queued again."""
    sql = f"UPDATE {table} SET status = 'queued', updated_at = ? WHERE status = ?"
    await db.awrite(lambda c: c.execute(sql, (now_iso(), claimed)))


@dataclass(frozen=True)
class Retry:
    """What a failed attempt leads to: given up (``final``), or queued again at ``run_after``."""

    final: bool
    run_after: str
    delay: float


def retry_after(attempts: int, *, base_delay: float, max_attempts: int) -> Retry:
    """Exponential backoff after the ``attempts``-th failed attempt (1-based)."""
    delay = base_delay * (2 ** (attempts - 1))
    return Retry(attempts >= max_attempts, format_ts(datetime.now(UTC) + timedelta(seconds=delay)), delay)


async def drain(db: Database, table: str, claimed: str, wake: Callable[[], None], timeout: float, what: str) -> None:
    """Wait until no row of ``table`` is due or claimed (tests and benchmarks)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    sql = f"SELECT count(*) FROM {table} WHERE status IN ('queued', ?) AND run_after <= ?"
    while loop.time() < deadline:
        if await db.aread(lambda c: c.execute(sql, (claimed, now_iso())).fetchone()[0]) == 0:
            return
        wake()
        await asyncio.sleep(0.02)
    raise TimeoutError(f"{what} did not drain")


async def work_loop(
    wake: asyncio.Event,
    claim: Callable[[], Awaitable[list[Any]]],
    handle: Callable[[Any], Awaitable[None]],
    *,
    concurrency: int,
    idle_wait: Callable[[], Awaitable[float]],
    log: logging.Logger,
    what: str,
) -> None:
    """Claim a batch, handle it ``concurrency`` rows at a time, repeat; with nothing due, sleep until woken
    or for ``idle_wait()`` seconds (when the next row falls due, or a polling interval)."""
    sem = asyncio.Semaphore(max(1, concurrency))

    async def one(row: Any) -> None:
        async with sem:
            await handle(row)

    while True:
        try:
            rows = await claim()
        except Exception:
            log.exception("cannot claim %s", what)
            rows = []
        if rows:
            await asyncio.gather(*(one(r) for r in rows))
            continue
        wake.clear()
        try:
            timeout = await idle_wait()
        except Exception:
            timeout = 1.0
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(wake.wait(), timeout=timeout)
