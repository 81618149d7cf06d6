"""chiasm routes: tasks, their history, stats and the feed; POST /activity (one report, fanned out)."""

from __future__ import annotations

from typing import Any

from starlette.routing import Route

from engram_core.services.activity import ACTIVITY
from engram_core.services.chiasm.service import FEED, HISTORY, TASK, TASK_LIST, TASK_UPDATE

from ..routing import ApiRequest, api


async def create(r: ApiRequest) -> Any:
    """Create a task."""
    return 201, await r.engram.services.tasks.create(r.auth, r.body)


async def list_(r: ApiRequest) -> Any:
    """The caller's tasks, most recently changed first."""
    return await r.engram.services.tasks.list(r.auth, r.query)


async def get(r: ApiRequest) -> Any:
    """One task."""
    return await r.engram.services.tasks.get(r.auth, r.path_int())


async def update(r: ApiRequest) -> Any:
    """Change a task (status, assignee, priority, ...); the change is kept in its history."""
    return await r.engram.services.tasks.update(r.auth, r.path_int(), r.body)


async def delete(r: ApiRequest) -> Any:
    """Delete a task and its history."""
    return await r.engram.services.tasks.delete(r.auth, r.path_int())


async def history(r: ApiRequest) -> Any:
    """Every change of a task, newest first."""
    return await r.engram.services.tasks.history(r.auth, r.path_int(), r.query)


async def stats(r: ApiRequest) -> Any:
    """Task counts by status, agent, project and priority."""
    return await r.engram.services.tasks.stats(r.auth)


async def feed(r: ApiRequest) -> Any:
    """Tasks by last change, and the latest changes."""
    return await r.engram.services.tasks.feed(r.auth, r.query)


async def activity(r: ApiRequest) -> Any:
    """One agent report: task, event, action log and heartbeat in one transaction (and a memory)."""
    return 201, await r.engram.services.activity.report(r.auth, r.body)


T = "tasks"


def _task_routes(prefix: str = "") -> list[Route]:
    """The task routes under ``prefix``: the reference also mounts them under ``/chiasm`` (same handlers)."""
    one = prefix + "/tasks/{id:int}"
    return [
        api(prefix + "/tasks", create, methods=("POST",), scope="write", body=TASK, tag=T, ok=(201,)),
        api(prefix + "/tasks", list_, query=TASK_LIST, tag=T),
        api(prefix + "/tasks/stats", stats, tag=T),
        api(one, get, tag=T),
        api(one, update, methods=("PATCH",), scope="write", body=TASK_UPDATE, tag=T),
        api(one, delete, methods=("DELETE",), scope="write", tag=T),
        api(one + "/history", history, query=HISTORY, tag=T),
        api(prefix + "/feed", feed, query=FEED, tag=T),
    ]


routes = [
    *_task_routes(),
    *_task_routes("/chiasm"),
    api("/activity", activity, methods=("POST",), scope="write", body=ACTIVITY, tag=T, ok=(201,), cost=2),
]
