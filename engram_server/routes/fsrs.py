"""FSRS and decay routes: explicit reviews, state, backfill, recall-due, decay refresh and scores."""

from __future__ import annotations

from typing import Any

from engram_core.decay.service import DUE, REVIEW, SCORES, STATE

from ..routing import ApiRequest, api


async def review(r: ApiRequest) -> Any:
    """Review a memory with a grade 1-4 (again, hard, good, easy)."""
    return await r.engram.cognitive.fsrs.review(r.auth, r.body)


async def state(r: ApiRequest) -> Any:
    """A memory's FSRS state, retrievability now and days to the next review."""
    return await r.engram.cognitive.fsrs.state(r.auth, r.query)


async def init(r: ApiRequest) -> Any:
    """Admin: give memories without an FSRS state their initial review."""
    return await r.engram.cognitive.fsrs.init(r.auth)


async def recall_due(r: ApiRequest) -> Any:
    """Memories whose retrievability fell below 0.9 (optionally matching a topic)."""
    return await r.engram.cognitive.fsrs.recall_due(r.auth, r.query)


async def refresh(r: ApiRequest) -> Any:
    """Recompute the retrieval-strength snapshot of the caller's memories."""
    return await r.engram.cognitive.fsrs.refresh(r.auth)


async def scores(r: ApiRequest) -> Any:
    """Decay scores of the caller's memories."""
    return await r.engram.cognitive.fsrs.scores(r.auth, r.query)


routes = [
    api("/fsrs/review", review, methods=("POST",), scope="write", body=REVIEW, tag="fsrs"),
    api("/fsrs/state", state, query=STATE, tag="fsrs"),
    api("/fsrs/init", init, methods=("POST",), scope="admin", tag="fsrs"),
    api("/fsrs/recall-due", recall_due, query=DUE, tag="fsrs"),
    api("/decay/refresh", refresh, methods=("POST",), scope="write", tag="fsrs"),
    api("/decay/scores", scores, query=SCORES, tag="fsrs"),
]
