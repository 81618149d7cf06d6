"""The claim/retry rules shared by the job queue and the webhook sender (engram_core/jobs/durable.py):
a claim counts the attempt, a crash's claimed rows are queued again, backoff doubles up to the last try."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from engram_core.jobs.durable import claim_tx, drain, requeue_claimed, retry_after
from engram_core.jobs.queue import enqueue
from engram_core.storage.database import Database
from engram_core.timeutil import to_datetime


def test_backoff_doubles_and_gives_up_at_the_last_attempt() -> None:
    delays = [retry_after(n, base_delay=0.5, max_attempts=4) for n in (1, 2, 3, 4)]
    assert [r.delay for r in delays] == [0.5, 1.0, 2.0, 4.0] and [r.final for r in delays] == [False] * 3 + [True]
    ahead = (to_datetime(delays[3].run_after) - datetime.now(UTC)).total_seconds()
    assert 3.0 < ahead <= 4.0


def test_claim_counts_the_attempt_and_a_restart_requeues_claimed_rows(tmp_path: Path) -> None:
    async def main() -> None:
        db = Database(tmp_path / "q.db")
        ids = await db.awrite(lambda c: [enqueue(c, "k", {"n": i}) for i in range(3)])

        def claim(conn: Any) -> list[Any]:
            rows = conn.execute("SELECT * FROM jobs WHERE id IN (?, ?) ORDER BY id", ids[:2]).fetchall()
            return claim_tx(conn, "jobs", "running", rows)

        assert [r["id"] for r in await db.awrite(claim)] == ids[:2]

        def states(conn: Any) -> list[tuple[str, int]]:
            return [(r[0], r[1]) for r in conn.execute("SELECT status, attempts FROM jobs ORDER BY id")]

        assert await db.aread(states) == [("running", 1), ("running", 1), ("queued", 0)]
        await requeue_claimed(db, "jobs", "running")  # what start() does after a crash
        assert await db.aread(states) == [("queued", 1), ("queued", 1), ("queued", 0)]
        await db.awrite(lambda c: c.execute("UPDATE jobs SET status = 'done'"))
        await drain(db, "jobs", "running", lambda: None, 1.0, "jobs")  # nothing due: returns at once
        db.close()

    asyncio.run(main())
