"""The embed thread's priority lane: a query submitted while a large document batch is queued runs before
that batch, by the executor's own record (submission ticket vs start order), never by a clock.

The embed thread is held by a gate while the work queues up, so what is queued when is exact; then it is
released and the record says what ran first. Real tiny ONNX models, a real SQLite file for the search path.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from engram_core.auth.context import AuthContext
from engram_core.auth.users import create_user
from engram_core.embeddings.batcher import EmbedBatcher
from engram_core.embeddings.lanes import LaneExecutor, Ran
from engram_core.embeddings.onnx_model import OnnxEmbedder
from engram_core.engram import Engram
from engram_core.settings import Settings
from tests.support.tiny_models import CORPUS, TinyModel, install_tiny_model

DOCS = [f"document {i}: " + " ".join(CORPUS[i % len(CORPUS)] for _ in range(i % 6 + 1)) for i in range(100)]


async def _until(check: Callable[[], bool]) -> None:
    for _ in range(5000):
        if check():
            return
        await asyncio.sleep(0.002)
    raise AssertionError("condition never held")


def _hold(executor: LaneExecutor) -> tuple[threading.Event, object]:
    """Occupy the embed thread until the returned event is set."""
    gate = threading.Event()
    return gate, executor.submit_to("bulk", gate.wait, 30, _label="gate")


def _runs(executor: LaneExecutor, label: str) -> list[Ran]:
    return [r for r in executor.record if r.label == label]


def test_a_query_queued_after_a_large_document_batch_runs_before_all_of_it(tiny_models: dict[str, TinyModel]) -> None:
    tiny = tiny_models["bert"]
    embedder = OnnxEmbedder(tiny.converted, tiny.info, threads=1)
    expected = embedder.embed(DOCS)

    async def scenario() -> tuple[np.ndarray, np.ndarray, np.ndarray, EmbedBatcher]:
        batcher = EmbedBatcher(embedder, batch_size=32, bulk_chunk=8)
        ex = batcher.executor
        gate, held = _hold(ex)
        await _until(lambda: held.running())  # type: ignore[attr-defined]
        bulk = asyncio.create_task(batcher.embed(DOCS))  # 100 texts > one chunk: the bulk lane, 13 chunks
        await _until(lambda: ex.pending("bulk") == 13)
        query = asyncio.create_task(batcher.embed(["where did the cat sit"]))  # through the micro-batcher
        loop = asyncio.get_running_loop()
        direct = loop.run_in_executor(ex, embedder.embed, ["rain tomorrow"])  # as the search pipeline embeds
        await _until(lambda: ex.pending("query") == 2)
        assert not bulk.done() and not query.done()
        gate.set()
        vectors, q, d = await asyncio.gather(bulk, query, direct)
        await batcher.close()
        return vectors, q, d, batcher

    vectors, q, d, batcher = asyncio.run(scenario())
    bulk_runs, queries = _runs(batcher.executor, "bulk"), [r for r in batcher.executor.record if r.lane == "query"]
    assert len(bulk_runs) == 13 and sum(r.texts for r in bulk_runs) == len(DOCS)
    assert len(queries) == 2 and {r.label for r in queries} == {"query", "OnnxEmbedder.embed"}
    # submitted after every chunk of the batch, started before any of them
    assert min(r.ticket for r in queries) > max(r.ticket for r in bulk_runs)
    assert max(r.started for r in queries) < min(r.started for r in bulk_runs)
    # the chunks (sorted by length, embedded apart) come back in input order with the same vectors
    np.testing.assert_allclose(vectors, expected, atol=1e-5)
    np.testing.assert_allclose(q, embedder.embed(["where did the cat sit"]), atol=1e-5)
    np.testing.assert_allclose(d, embedder.embed(["rain tomorrow"]), atol=1e-5)


def test_lanes_by_size_forced_bulk_sync_form_and_errors(tiny_models: dict[str, TinyModel]) -> None:
    tiny = tiny_models["bert"]
    embedder = OnnxEmbedder(tiny.converted, tiny.info, threads=1)
    batcher = EmbedBatcher(embedder, batch_size=32, bulk_chunk=4)
    texts = CORPUS[:4]

    async def scenario() -> tuple[np.ndarray, np.ndarray]:
        small = await batcher.embed(texts)  # one chunk's worth: the query lane
        forced = await batcher.embed(texts[:2], bulk=True)
        with pytest.raises(ValueError, match="boom"):
            await _failing(batcher)
        return small, forced

    small, forced = asyncio.run(scenario())
    lanes = [(r.lane, r.label, r.texts) for r in batcher.executor.record]
    assert lanes[:2] == [("query", "query", 4), ("bulk", "bulk", 2)]
    np.testing.assert_allclose(small, embedder.embed(texts), atol=1e-5)
    np.testing.assert_allclose(forced, embedder.embed(texts[:2]), atol=1e-5)
    synced = batcher.embed_sync(DOCS[:10])  # the re-embed job's form: bulk lane, 3 chunks
    np.testing.assert_allclose(synced, embedder.embed(DOCS[:10]), atol=1e-5)
    assert [r.texts for r in batcher.executor.record if r.lane == "bulk"][-3:] == [4, 4, 2]
    assert batcher.embed_sync([]).shape == (0, embedder.dim)
    batcher.executor.shutdown()
    with pytest.raises(RuntimeError, match="shutdown"):
        batcher.executor.submit(len, "x")


async def _failing(batcher: EmbedBatcher) -> None:
    """A bulk chunk that raises: the waiter gets the error, the thread carries on."""

    class Broken:
        dim = batcher.embedder.dim

        def embed(self, texts: list[str]) -> np.ndarray:
            raise ValueError("boom")

    real = batcher.embedder
    batcher.embedder = Broken()  # type: ignore[assignment]
    try:
        await batcher.embed(["x"] * 9)
    finally:
        batcher.embedder = real


def _engram_on_one_embed_thread(tmp_path: Path) -> tuple[Engram, AuthContext, LaneExecutor]:
    """An Engram on a tiny model with one embed thread (a gate can hold it, so what waits behind what is
    exact), a user, and the embed executor whose record the tests read."""
    settings = Settings.for_data_dir(tmp_path / "data", ttl_sweep_seconds=3600.0, embed_workers=1)
    install_tiny_model(settings.models_dir)
    engram = Engram.open(settings)
    engram.db.write(lambda c: create_user(c, None, "lanes", is_admin=True))
    assert engram.vectors.batcher is not None
    return engram, AuthContext.local(1), engram.vectors.batcher.executor


def test_a_search_during_a_bulk_store_jumps_the_queue(tmp_path: Path) -> None:
    """The real search path (SearchService -> pipeline -> embed executor) against a real store_many of 60
    memories (what an ingest batch or an import does): the search's embedding starts before the store's chunks."""
    engram, auth, ex = _engram_on_one_embed_thread(tmp_path)

    released: list[int] = []

    async def scenario() -> tuple[list[dict[str, object]], dict[str, object]]:
        await engram.start()
        try:
            await engram.memories.store(auth, {"content": "The otter sleeps by the harbour crane."})
            gate, held = _hold(ex)
            await _until(lambda: held.running())  # type: ignore[attr-defined]
            bodies = [{"content": f"Harbour note {i}: " + DOCS[i]} for i in range(60)]
            stored = asyncio.create_task(engram.memories.store_many(auth, bodies))
            await _until(lambda: ex.pending("bulk") > 0)
            found = asyncio.create_task(engram.search.search(auth, {"query": "where does the otter sleep"}))
            await _until(lambda: ex.pending("query") > 0)
            released.append(ex.last_ticket)
            gate.set()
            return await stored, await found
        finally:
            await engram.stop()

    try:
        results, found = asyncio.run(scenario())
    finally:
        engram.close()
    assert len(results) == 60 and sum(1 for r in results if r.get("stored")) > 40  # some are near-duplicates
    assert "otter" in str(found)
    runs = list(ex.record)
    gate_at = next(i for i, r in enumerate(runs) if r.label == "gate")
    after = runs[gate_at + 1 :]
    bulk = [r for r in after if r.label == "bulk"]
    assert sum(r.texts for r in bulk) == 60
    # query-lane work queued behind the store's chunks while the thread was held: the search's embedding
    late = [r for r in after if r.lane == "query" and min(b.ticket for b in bulk) < r.ticket <= released[0]]
    assert late and max(r.started for r in late) < min(r.started for r in bulk)


def test_the_decomposition_job_embeds_its_facts_in_the_bulk_lane(tmp_path: Path) -> None:
    """Facts are embedded by a background job: in the bulk lane, so a search never waits behind them, even
    when a memory has fewer facts than one bulk chunk (by size they would take the query lane)."""
    engram, auth, ex = _engram_on_one_embed_thread(tmp_path)
    text = "Maria moved to Lisbon in March. She works as a nurse at the city hospital. Her brother owns a bakery."

    async def scenario() -> int:
        await engram.start()
        try:
            stored = await engram.memories.store(auth, {"content": text})
            await engram.jobs.drain()
            facts = await engram.db.aread(
                lambda c: c.execute("SELECT COUNT(*) FROM memories WHERE is_fact = 1").fetchone()[0]
            )
            assert stored["stored"] and facts >= 2, facts
            return int(facts)
        finally:
            await engram.stop()

    try:
        facts = asyncio.run(scenario())
    finally:
        engram.close()
    assert facts < engram.vectors.batcher.bulk_chunk  # by size alone they would have gone to the query lane
    bulk = [r for r in ex.record if r.lane == "bulk"]
    assert sum(r.texts for r in bulk) == facts, list(ex.record)
