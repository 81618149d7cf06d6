"""Micro-batching: concurrent embed requests share one onnxruntime call.

Each ``await batcher.embed(texts)`` joins a queue; one worker takes everything pending (up to the batch
size), runs a single ``embedder.embed`` on a dedicated thread (never the event loop, never the write
thread) and hands each caller its rows. Under load, stores and searches are embedded in batches of up to
ENGRAM_EMBED_BATCH_SIZE at batch throughput; alone, a request goes straight through.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from .base import Embedder

__all__ = ["EmbedBatcher"]


class EmbedBatcher:
    def __init__(self, embedder: Embedder, batch_size: int = 32) -> None:
        self.embedder = embedder
        self.batch_size = max(1, batch_size)
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="engram-embed")
        self._queue: asyncio.Queue[tuple[list[str], asyncio.Future[np.ndarray]]] | None = None
        self._worker: asyncio.Task[None] | None = None
        self.on_batch: Callable[[int], None] | None = None  # texts per onnxruntime call (metrics)

    def queue_depth(self) -> int:
        """Embed requests waiting for the worker (metrics)."""
        return self._queue.qsize() if self._queue is not None else 0

    def _ensure_worker(self) -> asyncio.Queue[tuple[list[str], asyncio.Future[np.ndarray]]]:
        if self._queue is None or self._worker is None or self._worker.done():
            self._queue = asyncio.Queue()
            self._worker = asyncio.get_running_loop().create_task(self._run(self._queue), name="engram-embed")
        return self._queue

    async def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors for ``texts`` (float32, unit length), batched with whatever else is waiting."""
        if not texts:
            return np.zeros((0, self.embedder.dim), dtype=np.float32)
        fut: asyncio.Future[np.ndarray] = asyncio.get_running_loop().create_future()
        self._ensure_worker().put_nowait((list(texts), fut))
        return await fut

    def embed_sync(self, texts: Sequence[str]) -> np.ndarray:
        """Blocking form for scripts and the CLI (runs on the embed thread)."""
        return self.executor.submit(self.embedder.embed, list(texts)).result()

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
                vectors = await loop.run_in_executor(self.executor, self.embedder.embed, texts)
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
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
            self._worker = None
        self.executor.shutdown(wait=False)
