"""Micro-batching with a priority lane: queries never wait behind a bulk document batch.

Each ``await batcher.embed(texts)`` of up to ``bulk_chunk`` texts (a search query, a store, an /add's
facts) joins a queue. ``workers`` dispatchers (one per embed thread) take from it: an idle one takes the
request at once, so a lone search never waits for a window; while all are busy, requests pile up, and the
next one free takes everything pending (up to the batch size) and runs a single ``embedder.embed`` in the
executor's **query lane** (see ``lanes.LaneExecutor``), handing each caller its rows. So under load
searches and stores are embedded in batches of up to ENGRAM_EMBED_BATCH_SIZE, with no timer at all: the
batch is what arrived while the embed threads were busy.

A larger request (an ingest's or import's documents, a re-embed) is **bulk**: its texts are sorted by
length (so each chunk pads little, as one big call would), cut into chunks of ``bulk_chunk`` texts and
queued in the **bulk lane**. The embed thread takes query-lane work first whenever it is free, so a query
that arrives during an ingest waits for at most the one chunk that is running.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from concurrent.futures import Future

import numpy as np

from .base import Embedder
from .lanes import LaneExecutor

__all__ = ["BULK_CHUNK", "EmbedBatcher"]

BULK_CHUNK = 8  # texts per bulk-lane call: the longest a query can wait is one such call
_Part = tuple[list[int], np.ndarray]  # a bulk chunk: its rows in the request, their vectors


class EmbedBatcher:
    def __init__(
        self, embedder: Embedder, batch_size: int = 32, bulk_chunk: int = BULK_CHUNK, workers: int = 1
    ) -> None:
        self.embedder = embedder
        self.batch_size = max(1, batch_size)
        self.bulk_chunk = max(1, bulk_chunk)
        self.workers = max(1, workers)
        self.executor = LaneExecutor("engram-embed", self.workers)
        self._queue: asyncio.Queue[tuple[list[str], asyncio.Future[np.ndarray]]] | None = None
        self._dispatchers: list[asyncio.Task[None]] = []
        self.waiting = 0  # query-lane callers not answered yet (queued or in a running call)
        self.on_batch: Callable[[int], None] | None = None  # texts per onnxruntime call (metrics)

    def queue_depth(self) -> int:
        """Embed requests and bulk chunks waiting for the embedder (metrics)."""
        queued = self._queue.qsize() if self._queue is not None else 0
        return queued + self.executor.pending()

    def _ensure_worker(self) -> asyncio.Queue[tuple[list[str], asyncio.Future[np.ndarray]]]:
        if self._queue is None or not self._dispatchers or any(t.done() for t in self._dispatchers):
            for task in self._dispatchers:
                task.cancel()
            self._queue = asyncio.Queue()
            loop = asyncio.get_running_loop()
            self._dispatchers = [
                loop.create_task(self._run(self._queue), name=f"engram-embed-{i}") for i in range(self.workers)
            ]
        return self._queue

    def is_bulk(self, count: int) -> bool:
        """A request of ``count`` texts goes to the bulk lane when it is more than one bulk chunk."""
        return count > self.bulk_chunk

    async def embed(self, texts: Sequence[str], *, bulk: bool | None = None) -> np.ndarray:
        """Vectors for ``texts`` (float32, unit length); ``bulk`` None: decided by size (``is_bulk``)."""
        if not texts:
            return np.zeros((0, self.embedder.dim), dtype=np.float32)
        if bulk if bulk is not None else self.is_bulk(len(texts)):
            futures = self._submit_bulk(list(texts))
            parts = await asyncio.gather(*(asyncio.wrap_future(f) for f in futures))
            return self._reassemble(len(texts), parts)
        fut: asyncio.Future[np.ndarray] = asyncio.get_running_loop().create_future()
        self._ensure_worker().put_nowait((list(texts), fut))
        self.waiting += 1
        try:
            return await fut
        finally:
            self.waiting -= 1

    def embed_sync(self, texts: Sequence[str]) -> np.ndarray:
        """Blocking form for scripts, the CLI and the re-embed job (bulk lane; never on the event loop)."""
        if not texts:
            return np.zeros((0, self.embedder.dim), dtype=np.float32)
        return self._reassemble(len(texts), [f.result() for f in self._submit_bulk(list(texts))])

    # -- bulk lane ------------------------------------------------------------------------------------
    def _submit_bulk(self, texts: list[str]) -> list[Future[_Part]]:
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        futures: list[Future[_Part]] = []
        for start in range(0, len(order), self.bulk_chunk):
            idx = order[start : start + self.bulk_chunk]
            futures.append(
                self.executor.submit_to(
                    "bulk", self._embed_chunk, idx, [texts[i] for i in idx], _label="bulk", _texts=len(idx)
                )
            )
        return futures

    def _embed_chunk(self, idx: list[int], texts: list[str]) -> _Part:
        if self.on_batch is not None:
            self.on_batch(len(texts))
        return idx, self.embedder.embed(texts)

    def _reassemble(self, count: int, parts: Sequence[_Part]) -> np.ndarray:
        out = np.empty((count, self.embedder.dim), dtype=np.float32)
        for idx, vectors in parts:
            out[idx] = vectors
        return out

    # -- query lane -----------------------------------------------------------------------------------
    async def _run(self, queue: asyncio.Queue[tuple[list[str], asyncio.Future[np.ndarray]]]) -> None:
        loop = asyncio.get_running_loop()
        while True:
            batch = [await queue.get()]
            size = len(batch[0][0])
            while size < self.batch_size and not queue.empty():
                waiting = queue.get_nowait()
                batch.append(waiting)
                size += len(waiting[0])
            texts = [text for pending, _ in batch for text in pending]
            if self.on_batch is not None:
                self.on_batch(len(texts))
            try:
                vectors = await asyncio.wrap_future(
                    self.executor.submit_to("query", self.embedder.embed, texts, _label="query", _texts=len(texts)),
                    loop=loop,
                )
            except Exception as exc:
                for _, fut in batch:
                    if not fut.done():
                        fut.set_exception(exc)
                continue
            start = 0
            for pending, fut in batch:
                if not fut.done():
                    fut.set_result(vectors[start : start + len(pending)])
                start += len(pending)

    async def close(self) -> None:
        for task in self._dispatchers:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._dispatchers = []
        # Queued work is cancelled and the call in progress (one bulk chunk or one query batch) is waited
        # for: an embed thread still inside onnxruntime when the interpreter exits aborts the process
        # ("terminate called without an active exception"), e.g. a job's embedding cut short by a stop.
        await asyncio.to_thread(self.executor.shutdown, wait=True, cancel_futures=True)
