"""A small asyncio scheduler for periodic maintenance (TTL sweep, WAL checkpoint, ...).

Started and stopped by the server lifespan. A failing task is logged and retried at its next tick; it
never stops the scheduler or the other tasks.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

__all__ = ["PeriodicTask", "Scheduler"]

log = logging.getLogger("engram.jobs")


@dataclass
class PeriodicTask:
    name: str
    interval: float
    fn: Callable[[], Awaitable[object]]
    runs: int = 0
    failures: int = 0
    last_error: str | None = None
    _task: asyncio.Task[None] | None = field(default=None, repr=False)


class Scheduler:
    def __init__(self) -> None:
        self.tasks: dict[str, PeriodicTask] = {}

    def every(self, name: str, interval: float, fn: Callable[[], Awaitable[object]]) -> None:
        self.tasks[name] = PeriodicTask(name, interval, fn)

    async def _loop(self, task: PeriodicTask) -> None:
        while True:
            await asyncio.sleep(task.interval)
            try:
                await task.fn()
                task.runs += 1
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # logged, retried next tick
                task.failures += 1
                task.last_error = f"{type(exc).__name__}: {exc}"
                log.exception("periodic task %s failed", task.name)

    def start(self) -> None:
        for task in self.tasks.values():
            if task._task is None:
                task._task = asyncio.create_task(self._loop(task), name=f"engram-{task.name}")

    async def stop(self) -> None:
        for task in self.tasks.values():
            if task._task is not None:
                task._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task._task
                task._task = None

    def status(self) -> list[dict[str, object]]:
        return [
            {"name": t.name, "interval": t.interval, "runs": t.runs, "failures": t.failures, "last_error": t.last_error}
            for t in self.tasks.values()
        ]
