"""Search query embeddings go through the micro-batcher (issue 19): concurrent searches share one model
call and find what serial ones find; alone, each search is its own call; with several embed threads a
search does not wait behind a busy one.

Real tiny ONNX model, real SQLite file, the real search path (SearchService -> pipeline -> batcher). What
ran is read from the executor's own record (texts per call), never from a clock.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from engram_core.auth.context import AuthContext
from engram_core.auth.users import create_user
from engram_core.embeddings.lanes import LaneExecutor
from engram_core.engram import Engram
from engram_core.settings import Settings
from tests.support.tiny_models import install_tiny_model

MEMORIES = [
    "The otter sleeps by the harbour crane.",
    "Maria prefers green tea in the morning.",
    "The deploy on Friday broke the search latency.",
    "We moved the team meeting to Thursday afternoon.",
    "The marathon training plan starts in March.",
    "Pasta recipe: garlic, olive oil, chilli and parsley.",
    "The budget review is due before the release.",
    "Coffee with Sam about the hotel booking for the flight.",
]
QUERIES = [
    "where does the otter sleep",
    "what tea does Maria like",
    "what broke the search",
    "when is the team meeting",
    "marathon plan",
    "pasta with garlic",
    "budget before release",
    "hotel and flight",
    "harbour crane",
    "morning drink",
]


async def _until(check: Callable[[], bool]) -> None:
    for _ in range(5000):
        if check():
            return
        await asyncio.sleep(0.002)
    raise AssertionError("condition never held")


def _hold(executor: LaneExecutor) -> threading.Event:
    gate = threading.Event()
    executor.submit_to("query", gate.wait, 30, _label="gate")
    return gate


def _open(tmp_path: Path, workers: int) -> Engram:
    settings = Settings.for_data_dir(
        tmp_path / "data",
        ttl_sweep_seconds=3600.0,
        search_cache_size=0,
        embed_workers=workers,
        understand_on_store=False,  # no background job embedding between the searches
    )
    install_tiny_model(settings.models_dir)
    engram = Engram.open(settings)
    engram.db.write(lambda c: create_user(c, None, "batch", is_admin=True))
    return engram


def _semantic(found: dict[str, Any]) -> dict[int, float | None]:
    return {r["id"]: r["semantic_score"] for r in found["results"]}


def test_concurrent_searches_share_one_model_call_and_find_what_serial_ones_find(tmp_path: Path) -> None:
    engram = _open(tmp_path, workers=1)
    auth = AuthContext.local(1)
    batcher = engram.embed_batcher
    assert batcher is not None and batcher.workers == 1
    ex = batcher.executor

    async def scenario() -> tuple[list[dict[str, Any]], list[dict[str, Any]], int]:
        await engram.start()
        try:
            for text in MEMORIES:
                await engram.memories.store(auth, {"content": text})
            body = {"limit": 20}
            serial = [await engram.search.search(auth, {**body, "query": q}) for q in QUERIES]
            gate = _hold(ex)  # the only embed thread is busy: what arrives now has to wait
            mark = ex.last_ticket
            tasks = [asyncio.create_task(engram.search.search(auth, {**body, "query": q})) for q in QUERIES]
            await _until(lambda: batcher.waiting == len(QUERIES))
            gate.set()
            return serial, list(await asyncio.gather(*tasks)), mark
        finally:
            await engram.stop()

    try:
        serial, concurrent, mark = asyncio.run(scenario())
    finally:
        engram.close()
    serial_calls = [r for r in ex.record if r.label == "query" and r.ticket < mark]
    assert serial_calls and all(r.texts == 1 for r in serial_calls[-len(QUERIES) :])  # alone: one call each
    calls = [r.texts for r in ex.record if r.label == "query" and r.ticket > mark]
    # what arrived while the embed thread was busy went out together: every query, in one or two calls
    assert sum(calls) == len(QUERIES) and len(calls) <= 2, calls
    assert any(_semantic(found) for found in serial)
    for alone, together in zip(serial, concurrent, strict=True):
        a, b = _semantic(alone), _semantic(together)
        assert a.keys() == b.keys()  # the same memories found
        for memory_id, score in a.items():  # with the same cosine: the rows of a batch are each query's vector
            other = b[memory_id]
            assert (score is None) == (other is None)
            if score is not None and other is not None:
                assert abs(score - other) <= 1e-5


def test_with_two_embed_threads_a_search_does_not_wait_behind_a_busy_one(tmp_path: Path) -> None:
    engram = _open(tmp_path, workers=2)
    auth = AuthContext.local(1)
    batcher = engram.embed_batcher
    assert batcher is not None and batcher.workers == 2

    async def scenario() -> dict[str, Any]:
        await engram.start()
        gate = threading.Event()
        try:
            await engram.memories.store(auth, {"content": MEMORIES[0]})
            gate = _hold(batcher.executor)
            # one thread is held; the search is embedded on the other and answers while the gate is shut
            found: dict[str, Any] = await engram.search.search(auth, {"query": QUERIES[0]})
            assert not gate.is_set()
            return found
        finally:
            gate.set()
            await engram.stop()

    try:
        found = asyncio.run(scenario())
    finally:
        engram.close()
    assert found["results"] and "otter" in found["results"][0]["content"]
