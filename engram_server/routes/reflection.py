"""Reflection (and growth reflection), consolidation, memory health, retrieval feedback and causal chains."""

from __future__ import annotations

from typing import Any

from engram_core.intelligence.causal_chains import CAUSAL_CHAINS, CAUSAL_LINK
from engram_core.intelligence.consolidate import CONSOLIDATE
from engram_core.intelligence.feedback import FEEDBACK
from engram_core.intelligence.growth_reflect import GROWTH_REFLECT
from engram_core.intelligence.reflect import REFLECT, REFLECTIONS

from ..routing import ApiRequest, api


async def reflect(r: ApiRequest) -> Any:
    """Write a reflection memory (given, or about a topic or period) linked to its sources."""
    return 201, await r.engram.intel.reflection.reflect(r.auth, r.body)


async def reflections(r: ApiRequest) -> Any:
    """Reflections, newest first, with their source memory ids."""
    return await r.engram.intel.reflection.list(r.auth, r.query)


async def consolidate(r: ApiRequest) -> Any:
    """Merge related memories into one; the sources are hidden, never deleted (see undo)."""
    result = await r.engram.intel.consolidation.consolidate(r.auth, r.body)
    return (201 if result["count"] else 200), result


async def undo(r: ApiRequest) -> Any:
    """Undo a consolidation: the sources come back, the consolidated memory goes to the trash."""
    return await r.engram.intel.consolidation.undo(r.auth, r.path_int())


async def memory_health(r: ApiRequest) -> Any:
    """Stale, duplicate, unlinked, contradicted and never-recalled memories, with counts and ids."""
    return await r.engram.intel.health.report(r.auth)


async def feedback(r: ApiRequest) -> Any:
    """Rate a retrieved memory (helpful, irrelevant, off-topic, outdated); search follows."""
    return 201, await r.engram.intel.feedback.rate(r.auth, r.body)


async def feedback_stats(r: ApiRequest) -> Any:
    """Counts of the caller's ratings and the most rated memories."""
    return await r.engram.intel.feedback.stats(r.auth)


async def growth_reflect(r: ApiRequest) -> Any:
    """Write the growth observations down as one reflection memory, by the LLM when one is configured (nothing
    new: nothing stored)."""
    result = await r.engram.intel.growth_reflection.reflect(r.auth, r.body)
    return (201 if result["stored"] else 200), result


async def causal_link(r: ApiRequest) -> Any:
    """State that one memory caused another (a caused_by link, effect -> cause)."""
    result = await r.engram.intel.causal.link(r.auth, r.body)
    return (201 if result["created"] else 200), result


async def causal_chains(r: ApiRequest) -> Any:
    """Causal chains, cause first: through one memory, or from every root cause."""
    return await r.engram.intel.causal.chains(r.auth, r.query)


_T = "intelligence"
routes = [
    *(api(p, reflect, methods=("POST",), scope="write", body=REFLECT, tag=_T, ok=(201,))
      for p in ("/reflect", "/reflections")),
    api("/reflections", reflections, query=REFLECTIONS, tag=_T),
    api("/consolidate", consolidate, methods=("POST",), scope="write", body=CONSOLIDATE, tag=_T, ok=(201, 200)),
    api("/consolidate/{id:int}/undo", undo, methods=("POST",), scope="write", tag=_T),
    api("/memory-health", memory_health, tag=_T),
    api("/feedback", feedback, methods=("POST",), scope="write", body=FEEDBACK, tag=_T, ok=(201,)),
    api("/feedback/stats", feedback_stats, tag=_T),
    api("/growth/reflect", growth_reflect, methods=("POST",), scope="write", body=GROWTH_REFLECT, tag=_T,
        ok=(201, 200), cost=2),
    api("/intelligence/causal/links", causal_link, methods=("POST",), scope="write", body=CAUSAL_LINK, tag=_T,
        ok=(201, 200)),
    api("/intelligence/causal/chains", causal_chains, query=CAUSAL_CHAINS, tag=_T, cost=2),
]  # fmt: skip
