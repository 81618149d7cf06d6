"""The durable job queue: jobs commit with their change, survive a crash, retry with backoff."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from engram_core.jobs.queue import JobQueue, enqueue
from engram_core.storage.database import Database


def test_jobs_run_retry_and_fail(tmp_path: Path) -> None:
    async def main() -> None:
        db = Database(tmp_path / "j.db")
        queue = JobQueue(db, max_attempts=3, base_delay=0.0)
        seen: list[Any] = []
        flaky_calls = 0

        async def ok(payload: dict[str, Any], user_id: int | None) -> Any:
            seen.append(payload["n"])
            return {"doubled": payload["n"] * 2}

        async def flaky(payload: dict[str, Any], user_id: int | None) -> None:
            nonlocal flaky_calls
            flaky_calls += 1
            if flaky_calls < 2:
                raise RuntimeError("transient")

        async def broken(payload: dict[str, Any], user_id: int | None) -> None:
            raise RuntimeError("always")

        for kind, fn in (("ok", ok), ("flaky", flaky), ("broken", broken)):
            queue.register(kind, fn)
        await queue.start()
        ids = await db.awrite(
            lambda c: [enqueue(c, "ok", {"n": 21}), enqueue(c, "flaky", {}), enqueue(c, "broken", {})]
        )
        queue.wake()
        await queue.drain()
        jobs = {j["id"]: j for j in await queue.list(None, status=None, limit=10)}
        assert jobs[ids[0]]["status"] == "done" and jobs[ids[0]]["result"] == {"doubled": 42}
        assert jobs[ids[1]]["status"] == "done" and jobs[ids[1]]["attempts"] == 2
        assert jobs[ids[2]]["status"] == "failed" and jobs[ids[2]]["attempts"] == 3
        assert "always" in jobs[ids[2]]["last_error"]
        await queue.retry(ids[2], None)
        await queue.drain()
        assert (await queue.get(ids[2], None))["attempts"] == 3
        await queue.stop()
        db.close()

    asyncio.run(main())


def test_a_job_left_running_by_a_crash_runs_after_restart(tmp_path: Path) -> None:
    db = Database(tmp_path / "j.db")
    job_id = db.write(lambda c: enqueue(c, "ok", {"n": 1}))
    db.write(lambda c: c.execute("UPDATE jobs SET status = 'running' WHERE id = ?", (job_id,)))
    db.close()

    async def main() -> None:
        db2 = Database(tmp_path / "j.db")
        queue = JobQueue(db2)
        done: list[int] = []

        async def ok(payload: dict[str, Any], user_id: int | None) -> None:
            done.append(payload["n"])

        queue.register("ok", ok)
        await queue.start()
        await queue.drain()
        await queue.stop()
        db2.close()
        assert done == [1]

    asyncio.run(main())


def test_a_committed_job_row_wakes_the_queue_through_the_change_feed(tmp_path: Path) -> None:
    db = Database(tmp_path / "j.db")
    try:
        woken: list[int] = []

        class Counting(JobQueue):
            def wake(self) -> None:
                woken.append(1)

        Counting(db)
        job = db.write(lambda c: enqueue(c, "x", {}))
        assert woken == [1]  # nobody called wake(): the feed did, after the COMMIT
        db.write(lambda c: c.execute("UPDATE jobs SET attempts = 1 WHERE id = ?", (job,)))
        assert woken == [1]  # only new jobs wake it

        def rolled_back(conn: Any) -> None:
            enqueue(conn, "x", {})
            raise ValueError("no")

        with pytest.raises(ValueError):
            db.write(rolled_back)
        assert woken == [1]
    finally:
        db.close()


def test_a_due_job_is_claimed_before_a_backlog_of_background_jobs(tmp_path: Path) -> None:
    """An ingest (or any job someone waits for) queued behind thousands of follow-ups of earlier stores
    (auto-link, understanding: background kinds) runs next, not after the backlog."""

    async def main() -> None:
        db = Database(tmp_path / "j.db")
        queue = JobQueue(db, concurrency=1)
        order: list[str] = []

        async def record(payload: dict[str, Any], user_id: int | None) -> None:
            order.append(payload["name"])

        queue.register("follow_up", record, background=True)
        queue.register("ingest", record)
        await db.awrite(lambda c: [enqueue(c, "follow_up", {"name": f"f{i}"}) for i in range(6)])
        await db.awrite(lambda c: enqueue(c, "ingest", {"name": "ingest"}))
        await queue.start()
        await queue.drain()
        assert order == ["ingest", "f0", "f1", "f2", "f3", "f4", "f5"]
        await queue.stop()
        db.close()

    asyncio.run(main())
