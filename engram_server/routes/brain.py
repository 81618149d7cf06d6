"""brain and digest routes: stats and a query across the services; digests of a period."""

from __future__ import annotations

from typing import Any

from engram_core.services.brain.service import ABSORB, FEEDBACK, QUERY
from engram_core.services.digests.service import DIGESTS, GENERATE

from ..routing import ApiRequest, api


async def stats(r: ApiRequest) -> Any:
    """Counts across memories and the coordination services."""
    return await r.engram.services.brain.stats(r.auth)


async def query(r: ApiRequest) -> Any:
    """Activate memories for a query, with related tasks, actions, events and contradictions."""
    return await r.engram.services.brain.query(r.auth, r.body)


async def absorb(r: ApiRequest) -> Any:
    """Absorb a memory (an implicit review strengthens it)."""
    return await r.engram.services.brain.absorb(r.auth, r.body)


async def feedback(r: ApiRequest) -> Any:
    """Rate an activation: memories rated, links between them reweighted."""
    return await r.engram.services.brain.feedback(r.auth, r.body)


async def generate(r: ApiRequest) -> Any:
    """Make a digest of the last day, week or month (also sent to digest.generated webhooks)."""
    return 201, await r.engram.services.digests.generate(r.auth, r.body)


async def digests(r: ApiRequest) -> Any:
    """The caller's digests, newest first."""
    return await r.engram.services.digests.list(r.auth, r.query)


routes = [
    api("/brain/stats", stats, tag="brain"),
    api("/brain/query", query, methods=("POST",), scope="read", body=QUERY, tag="brain", ok=(200,), cost=2),
    api("/brain/absorb", absorb, methods=("POST",), scope="write", body=ABSORB, tag="brain", ok=(200,)),
    api("/brain/feedback", feedback, methods=("POST",), scope="write", body=FEEDBACK, tag="brain", ok=(200,)),
    # Digests; the reference also mounts them under /intelligence (same handlers).
    *(
        route
        for prefix in ("", "/intelligence")
        for route in (
            api(
                prefix + "/digests/generate",
                generate,
                methods=("POST",),
                scope="write",
                body=GENERATE,
                tag="digests",
                ok=(201,),
                cost=5,
            ),  # fmt: skip
            api(prefix + "/digests", digests, query=DIGESTS, tag="digests"),
        )
    ),
]
