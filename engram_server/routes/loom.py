"""loom routes: workflows, runs, step callbacks, stats."""

from __future__ import annotations

from typing import Any

from engram_core.services.loom.definitions import RUN, RUNS, STEP_COMPLETE, STEP_FAIL, WORKFLOW, WORKFLOW_UPDATE
from engram_core.services.loom.logs import RUN_LOGS

from ..routing import ApiRequest, api


async def workflows(r: ApiRequest) -> Any:
    """The caller's workflow definitions."""
    return await r.engram.services.loom.workflows(r.auth)


async def create(r: ApiRequest) -> Any:
    """Define a workflow (steps with dependencies, retries, timeouts)."""
    return 201, await r.engram.services.loom.create(r.auth, r.body)


async def workflow(r: ApiRequest) -> Any:
    """One workflow."""
    return await r.engram.services.loom.workflow(r.auth, r.path_int())


async def update(r: ApiRequest) -> Any:
    """Change a workflow."""
    return await r.engram.services.loom.update(r.auth, r.path_int(), r.body)


async def delete(r: ApiRequest) -> Any:
    """Delete a workflow and its runs."""
    return await r.engram.services.loom.delete(r.auth, r.path_int())


async def start(r: ApiRequest) -> Any:
    """Start a run; steps without dependencies become ready at once."""
    return 201, await r.engram.services.loom.start(r.auth, r.body)


async def runs(r: ApiRequest) -> Any:
    """The caller's runs, newest first."""
    return await r.engram.services.loom.runs(r.auth, r.query)


async def run(r: ApiRequest) -> Any:
    """One run with its steps."""
    return await r.engram.services.loom.run(r.auth, r.path_int())


async def steps(r: ApiRequest) -> Any:
    """A run's steps."""
    return await r.engram.services.loom.steps(r.auth, r.path_int())


async def logs(r: ApiRequest) -> Any:
    """A run's log: step starts, completions, retries, failures and timeouts, oldest first."""
    return await r.engram.services.loom.logs(r.auth, r.path_int(), r.query)


async def cancel(r: ApiRequest) -> Any:
    """Cancel a run (its pending and running steps are skipped)."""
    return await r.engram.services.loom.cancel(r.auth, r.path_int())


async def complete(r: ApiRequest) -> Any:
    """Step callback: the step completed with this output."""
    return await r.engram.services.loom.complete(r.auth, r.path_int(), r.body)


async def fail(r: ApiRequest) -> Any:
    """Step callback: the step failed (retried while it may)."""
    return await r.engram.services.loom.fail(r.auth, r.path_int(), r.body)


async def stats(r: ApiRequest) -> Any:
    """Counts of workflows, runs, active runs and steps."""
    return await r.engram.services.loom.stats(r.auth)


T = "loom"
_W = "/loom/workflows/{id:int}"
_R = "/loom/runs/{id:int}"
routes = [
    api("/loom/workflows", workflows, tag=T),
    api("/loom/workflows", create, methods=("POST",), scope="write", body=WORKFLOW, tag=T, ok=(201,)),
    api(_W, workflow, tag=T),
    api(_W, update, methods=("PATCH",), scope="write", body=WORKFLOW_UPDATE, tag=T),
    api(_W, delete, methods=("DELETE",), scope="write", tag=T),
    api("/loom/runs", start, methods=("POST",), scope="write", body=RUN, tag=T, ok=(201,)),
    api("/loom/runs", runs, query=RUNS, tag=T),
    api(_R, run, tag=T),
    api(_R + "/steps", steps, tag=T),
    api(_R + "/logs", logs, query=RUN_LOGS, tag=T, cost=1),
    api(_R + "/cancel", cancel, methods=("POST",), scope="write", tag=T, ok=(200,)),
    api(
        "/loom/steps/{id:int}/complete",
        complete,
        methods=("POST",),
        scope="write",
        body=STEP_COMPLETE,
        tag=T,
        ok=(200,),
    ),
    api("/loom/steps/{id:int}/fail", fail, methods=("POST",), scope="write", body=STEP_FAIL, tag=T, ok=(200,)),
    api("/loom/stats", stats, tag=T),
]
