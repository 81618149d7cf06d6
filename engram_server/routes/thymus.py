"""thymus routes: rubrics, evaluations, metrics and their summaries, per-agent scores, stats."""

from __future__ import annotations

from typing import Any

from engram_core.services.thymus.drift import (
    DRIFT_EVENT,
    DRIFT_EVENTS,
    DRIFT_SUMMARY,
    SESSION_QUALITY,
    SESSION_QUALITY_LIST,
)
from engram_core.services.thymus.rubrics import EVALUATE, EVALUATIONS, METRIC, METRICS, RUBRIC, RUBRIC_UPDATE, SUMMARY

from ..routing import ApiRequest, api


async def rubrics(r: ApiRequest) -> Any:
    """The caller's rubrics."""
    return await r.engram.services.thymus.rubrics(r.auth)


async def create(r: ApiRequest) -> Any:
    """Create a rubric with weighted criteria."""
    return 201, await r.engram.services.thymus.create(r.auth, r.body)


async def rubric(r: ApiRequest) -> Any:
    """One rubric."""
    return await r.engram.services.thymus.rubric(r.auth, r.path_int())


async def update(r: ApiRequest) -> Any:
    """Change a rubric."""
    return await r.engram.services.thymus.update(r.auth, r.path_int(), r.body)


async def delete(r: ApiRequest) -> Any:
    """Delete a rubric and its evaluations."""
    return await r.engram.services.thymus.delete(r.auth, r.path_int())


async def evaluate(r: ApiRequest) -> Any:
    """Score a subject against a rubric (by the caller, or the configured LLM)."""
    return 201, await r.engram.services.thymus.evaluate(r.auth, r.body)


async def evaluations(r: ApiRequest) -> Any:
    """The caller's evaluations, newest first."""
    return await r.engram.services.thymus.evaluations(r.auth, r.query)


async def evaluation(r: ApiRequest) -> Any:
    """One evaluation."""
    return await r.engram.services.thymus.evaluation(r.auth, r.path_int())


async def agent_scores(r: ApiRequest) -> Any:
    """An agent's average scores, overall and per criterion."""
    return await r.engram.services.thymus.agent_scores(r.auth, r.request.path_params["agent"])


async def record(r: ApiRequest) -> Any:
    """Record a metric value."""
    return 201, await r.engram.services.thymus.record(r.auth, r.body)


async def metrics(r: ApiRequest) -> Any:
    """Recorded metric values, newest first."""
    return await r.engram.services.thymus.metrics(r.auth, r.query)


async def summary(r: ApiRequest) -> Any:
    """avg/min/max/count of a metric, with a series over time."""
    return await r.engram.services.thymus.summary(r.auth, r.query)


async def record_drift(r: ApiRequest) -> Any:
    """Record a drift event (drift.detected on the quality channel)."""
    return 201, await r.engram.services.thymus.record_drift(r.auth, r.body)


async def drift_events(r: ApiRequest) -> Any:
    """Drift events, newest first."""
    return await r.engram.services.thymus.drift_events(r.auth, r.query)


async def drift_summary(r: ApiRequest) -> Any:
    """Drift event counts by type and severity."""
    return await r.engram.services.thymus.drift_summary(r.auth, r.query)


async def record_session(r: ApiRequest) -> Any:
    """Record a session's quality (session.quality on the quality channel)."""
    return 201, await r.engram.services.thymus.record_session(r.auth, r.body)


async def sessions(r: ApiRequest) -> Any:
    """Session quality records, newest first."""
    return await r.engram.services.thymus.sessions(r.auth, r.query)


async def stats(r: ApiRequest) -> Any:
    """Counts of rubrics, evaluations, metrics and agents."""
    return await r.engram.services.thymus.stats(r.auth)


T = "thymus"
_R = "/thymus/rubrics/{id:int}"
routes = [
    api("/thymus/rubrics", rubrics, tag=T),
    api("/thymus/rubrics", create, methods=("POST",), scope="write", body=RUBRIC, tag=T, ok=(201,)),
    api(_R, rubric, tag=T),
    api(_R, update, methods=("PATCH",), scope="write", body=RUBRIC_UPDATE, tag=T),
    api(_R, delete, methods=("DELETE",), scope="write", tag=T),
    api("/thymus/evaluate", evaluate, methods=("POST",), scope="write", body=EVALUATE, tag=T, ok=(201,)),
    api("/thymus/evaluations", evaluations, query=EVALUATIONS, tag=T),
    api("/thymus/evaluations/{id:int}", evaluation, tag=T),
    api("/thymus/agents/{agent}/scores", agent_scores, tag=T),
    api("/thymus/metrics", record, methods=("POST",), scope="write", body=METRIC, tag=T, ok=(201,)),
    api("/thymus/metrics", metrics, query=METRICS, tag=T),
    api("/thymus/metrics/summary", summary, query=SUMMARY, tag=T),
    api(
        "/thymus/drift-events",
        record_drift,
        methods=("POST",),
        scope="write",
        body=DRIFT_EVENT,
        tag=T,
        ok=(201,),
        cost=1,
    ),
    api("/thymus/drift-events", drift_events, query=DRIFT_EVENTS, tag=T, cost=1),
    api("/thymus/drift-summary", drift_summary, query=DRIFT_SUMMARY, tag=T, cost=1),
    api(
        "/thymus/session-quality",
        record_session,
        methods=("POST",),
        scope="write",
        body=SESSION_QUALITY,
        tag=T,
        ok=(201,),
        cost=1,
    ),
    api("/thymus/session-quality", sessions, query=SESSION_QUALITY_LIST, tag=T, cost=1),
    api("/thymus/stats", stats, tag=T),
]
