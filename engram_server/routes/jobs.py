"""Background job routes."""

from __future__ import annotations

from typing import Any

from engram_core.jobs.queue import JOBS

from ..routing import ApiRequest, api


def _scope(r: ApiRequest) -> int | None:
    return None if (r.auth.is_admin and r.query.get("all")) else r.auth.user_id


async def list_jobs(r: ApiRequest) -> Any:
    """Background jobs of the caller (admins: all with all=true)."""
    jobs = await r.engram.jobs.list(_scope(r), status=r.query["status"], limit=r.query["limit"])
    return {"jobs": jobs, "count": len(jobs)}


async def retry_job(r: ApiRequest) -> Any:
    """Queue a failed job again."""
    return await r.engram.jobs.retry(r.path_int(), None if r.auth.is_admin else r.auth.user_id)


routes = [
    api("/jobs", list_jobs, query=JOBS, tag="jobs"),
    api("/jobs/{id:int}/retry", retry_job, methods=("POST",), scope="write", tag="jobs"),
]
