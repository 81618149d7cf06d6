"""Intelligence routes (facts half): structured facts, contradictions, decomposition, valence."""

from __future__ import annotations

from typing import Any

from engram_core.intelligence.schemas import CONTRADICTIONS, FACTS, GROWTH, SCAN, VALENCE

from ..routing import ApiRequest, api


async def facts(r: ApiRequest) -> Any:
    """Structured facts (current, as of a time, or the whole history)."""
    return await r.engram.facts.facts(r.auth, r.query)


async def contradictions(r: ApiRequest) -> Any:
    """The caller's contradictions, newest first."""
    return await r.engram.facts.contradictions(r.auth, r.query)


async def contradictions_of(r: ApiRequest) -> Any:
    """The contradictions one memory takes part in."""
    return await r.engram.facts.contradictions_of(r.auth, r.path_int())


async def scan(r: ApiRequest) -> Any:
    """Scan the caller's memories for contradictions and list them all."""
    return await r.engram.facts.scan(r.auth, r.body)


async def decompose(r: ApiRequest) -> Any:
    """Decompose a memory into fact memories now; returns their ids."""
    return await r.engram.facts.decompose(r.auth, r.path_int())


async def decompose_sweep(r: ApiRequest) -> Any:
    """Queue the resumable decomposition sweep over every memory (progress on the job)."""
    return 202, await r.engram.facts.sweep(r.auth)


async def valence_score(r: ApiRequest) -> Any:
    """Valence and arousal of a text (nothing stored)."""
    return await r.engram.facts.valence_score(r.auth, r.body)


async def growth(r: ApiRequest) -> Any:
    """Growth observations: facts that changed over time (from -> to), newest first."""
    return await r.engram.facts.growth(r.auth, r.query)


async def valence_of(r: ApiRequest) -> Any:
    """A memory's stored valence and arousal."""
    return await r.engram.facts.valence_of(r.auth, r.path_int())


_TAG = "intelligence"
routes = [
    api("/facts", facts, query=FACTS, tag=_TAG),
    *(api(p + "/contradictions", contradictions, query=CONTRADICTIONS, tag=_TAG) for p in ("", "/intelligence")),
    *(api(p + "/contradictions/{id:int}", contradictions_of, tag=_TAG) for p in ("", "/intelligence")),
    *(
        api(p + "/contradictions", scan, methods=("POST",), scope="write", body=SCAN, tag=_TAG, cost=10)
        for p in ("", "/intelligence")
    ),
    api("/intelligence/decompose/{id:int}", decompose, methods=("POST",), scope="write", tag=_TAG, cost=2),
    api("/admin/decompose-sweep", decompose_sweep, methods=("POST",), scope="admin", tag="admin", ok=(202,), cost=50),
    api("/intelligence/valence/score", valence_score, methods=("POST",), body=VALENCE, tag=_TAG),
    api("/intelligence/valence/{id:int}", valence_of, tag=_TAG),
    api("/growth/observations", growth, query=GROWTH, tag=_TAG),
]
