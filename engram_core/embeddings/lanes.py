"""The embed thread with two lanes: interactive work runs before bulk document batches.

``LaneExecutor`` is a ``concurrent.futures.Executor`` over ``workers`` threads (one by default; the
server runs one per core, ENGRAM_EMBED_WORKERS, so concurrent embeddings use every core). ``submit`` (and so
``loop.run_in_executor(executor, ...)``: query embeddings, reranking, single stores) puts work in the
``query`` lane; ``submit_bulk`` (an ingest's, import's or re-embed's document chunks) puts it in the ``bulk``
lane. Whenever a thread is free it takes the oldest query-lane item first, so a query waits at most for
the bulk chunks already running, never for the bulk work queued behind them.

The thread keeps a record of what it ran (``record``: submission ticket, start order, lane, label, texts),
the executor's own account of the order, which tests read instead of timing anything.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Executor, Future
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

__all__ = ["Lane", "LaneExecutor", "Ran"]

Lane = Literal["query", "bulk"]
T = TypeVar("T")
_RECORD = 1024
_ORDER: tuple[Lane, ...] = ("query", "bulk")  # the order the thread looks at the lanes


@dataclass(frozen=True)
class Ran:
    """One item the embed thread started: ``ticket`` is its submission order, ``started`` its run order."""

    ticket: int
    started: int
    lane: Lane
    label: str
    texts: int


@dataclass
class _Item:
    future: Future[Any]
    fn: Callable[..., Any]
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    lane: Lane
    label: str
    texts: int
    ticket: int


class LaneExecutor(Executor):
    """``workers`` threads, two FIFO lanes; the query lane always goes first."""

    def __init__(self, thread_name: str = "engram-embed", workers: int = 1) -> None:
        self.thread_name = thread_name
        self.workers = max(1, workers)
        self._cond = threading.Condition()
        self._lanes: dict[Lane, deque[_Item]] = {"query": deque(), "bulk": deque()}
        self._threads: list[threading.Thread] = []
        self._shutdown = False
        self._tickets = 0
        self._started = 0
        self.record: deque[Ran] = deque(maxlen=_RECORD)

    # -- submitting -----------------------------------------------------------------------------------
    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        """Run ``fn(*args, **kwargs)`` in the query lane (the ``Executor`` interface)."""
        return self.submit_to("query", fn, *args, **kwargs)

    def submit_bulk(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        """Run ``fn(*args, **kwargs)`` in the bulk lane: after every query-lane item queued before it starts."""
        return self.submit_to("bulk", fn, *args, **kwargs)

    def submit_to(
        self, lane: Lane, fn: Callable[..., T], /, *args: Any, _label: str = "", _texts: int = 0, **kwargs: Any
    ) -> Future[T]:
        future: Future[T] = Future()
        with self._cond:
            if self._shutdown:
                raise RuntimeError("cannot schedule new work after shutdown")
            self._tickets += 1
            label = _label or getattr(fn, "__qualname__", type(fn).__name__)
            self._lanes[lane].append(_Item(future, fn, args, kwargs, lane, label, _texts, self._tickets))
            if not self._threads:
                for i in range(self.workers):
                    name = self.thread_name if self.workers == 1 else f"{self.thread_name}-{i}"
                    self._threads.append(threading.Thread(target=self._work, name=name, daemon=True))
                    self._threads[-1].start()
            self._cond.notify()
        return future

    @property
    def last_ticket(self) -> int:
        """The ticket of the latest submission (tickets count up from 1)."""
        with self._cond:
            return self._tickets

    def pending(self, lane: Lane | None = None) -> int:
        """Items waiting (not yet started) in ``lane``, or in both."""
        with self._cond:
            if lane is not None:
                return len(self._lanes[lane])
            return sum(len(q) for q in self._lanes.values())

    # -- the thread -----------------------------------------------------------------------------------
    def _next(self) -> _Item | None:
        with self._cond:
            while True:
                for lane in _ORDER:
                    queue = self._lanes[lane]
                    if queue:
                        return queue.popleft()
                if self._shutdown:
                    return None
                self._cond.wait()

    def _work(self) -> None:
        while (item := self._next()) is not None:
            if not item.future.set_running_or_notify_cancel():
                continue
            with self._cond:
                self._started += 1
                self.record.append(Ran(item.ticket, self._started, item.lane, item.label, item.texts))
            try:
                result = item.fn(*item.args, **item.kwargs)
            except BaseException as exc:  # handed to the waiter, like ThreadPoolExecutor
                item.future.set_exception(exc)
            else:
                item.future.set_result(result)
            del item

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        with self._cond:
            self._shutdown = True
            if cancel_futures:
                for queue in self._lanes.values():
                    while queue:
                        queue.popleft().future.cancel()
            self._cond.notify_all()
            threads = list(self._threads)
        if wait:
            for thread in threads:
                if thread is not threading.current_thread():
                    thread.join()
