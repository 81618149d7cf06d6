"""soma routes: the agent registry, heartbeats, capability search, groups, stats."""

from __future__ import annotations

from typing import Any

from engram_core.services.soma.service import (
    AGENT,
    AGENT_LIST,
    AGENT_UPDATE,
    GROUP,
    HEARTBEAT,
    LOG,
    LOGS,
    MEMBER,
    QUALITY,
    SEARCH,
    STALE,
)

from ..routing import ApiRequest, api


async def register(r: ApiRequest) -> Any:
    """Register an agent (upserts by name)."""
    return 201, await r.engram.services.soma.register(r.auth, r.body)


async def list_(r: ApiRequest) -> Any:
    """The caller's agents."""
    return await r.engram.services.soma.list(r.auth, r.query)


async def search(r: ApiRequest) -> Any:
    """Agents with a capability."""
    return await r.engram.services.soma.search(r.auth, r.query)


async def get(r: ApiRequest) -> Any:
    """One agent."""
    return await r.engram.services.soma.get(r.auth, r.path_int())


async def update(r: ApiRequest) -> Any:
    """Change an agent."""
    return await r.engram.services.soma.update(r.auth, r.path_int(), r.body)


async def delete(r: ApiRequest) -> Any:
    """Remove an agent."""
    return await r.engram.services.soma.delete(r.auth, r.path_int())


async def heartbeat(r: ApiRequest) -> Any:
    """An agent's heartbeat: it is online."""
    return await r.engram.services.soma.heartbeat(r.auth, r.path_int(), r.body)


async def log(r: ApiRequest) -> Any:
    """Append an entry (level, message, data) to an agent's log."""
    return 201, await r.engram.services.soma.log(r.auth, r.path_int(), r.body)


async def logs(r: ApiRequest) -> Any:
    """An agent's log, newest first."""
    return await r.engram.services.soma.logs(r.auth, r.path_int(), r.query)


async def stale(r: ApiRequest) -> Any:
    """Agents without a heartbeat for ?minutes (default: the configured offline time)."""
    return await r.engram.services.soma.stale(r.auth, r.query)


async def create_group(r: ApiRequest) -> Any:
    """Create a group of agents."""
    return 201, await r.engram.services.soma.create_group(r.auth, r.body)


async def groups(r: ApiRequest) -> Any:
    """The caller's groups with member counts."""
    return await r.engram.services.soma.groups(r.auth)


async def add_member(r: ApiRequest) -> Any:
    """Add an agent to a group."""
    return await r.engram.services.soma.add_member(r.auth, r.path_int(), r.body)


async def members(r: ApiRequest) -> Any:
    """A group's agents."""
    return await r.engram.services.soma.members(r.auth, r.path_int())


async def remove_member(r: ApiRequest) -> Any:
    """Take an agent out of a group."""
    return await r.engram.services.soma.remove_member(r.auth, r.path_int(), r.path_int("agent_id"))


async def set_quality(r: ApiRequest) -> Any:
    """Set an agent's quality score and drift flags (the TypeScript server's route)."""
    return await r.engram.services.soma.set_quality(r.auth, r.path_int(), r.body)


async def stats(r: ApiRequest) -> Any:
    """Agent counts by type and status."""
    return await r.engram.services.soma.stats(r.auth)


T = "soma"
_ID = "/soma/agents/{id:int}"
_G = "/soma/groups/{id:int}"
routes = [
    api("/soma/agents", register, methods=("POST",), scope="write", body=AGENT, tag=T, ok=(201,)),
    api("/soma/agents", list_, query=AGENT_LIST, tag=T),
    api("/soma/agents/search", search, query=SEARCH, tag=T),
    api("/soma/agents/stale", stale, query=STALE, tag=T, cost=1),
    api(_ID, get, tag=T),
    api(_ID, update, methods=("PATCH",), scope="write", body=AGENT_UPDATE, tag=T),
    api(_ID, delete, methods=("DELETE",), scope="write", tag=T),
    api(_ID + "/heartbeat", heartbeat, methods=("POST",), scope="write", body=HEARTBEAT, tag=T, ok=(200,)),
    api(_ID + "/log", log, methods=("POST",), scope="write", body=LOG, tag=T, ok=(201,), cost=1),
    api(_ID + "/log", logs, query=LOGS, tag=T, summary="An agent's log, newest first (alias of /logs).", cost=1),
    api(_ID + "/logs", logs, query=LOGS, tag=T, cost=1),
    api(_ID + "/quality", set_quality, methods=("PATCH",), scope="write", body=QUALITY, tag=T),
    # the TypeScript server's place for an agent's log: the same entries and shapes as /soma/agents/{id}/logs
    api(
        "/agents/{id:int}/logs",
        log,
        methods=("POST",),
        scope="write",
        body=LOG,
        tag=T,
        ok=(201,),
        cost=1,
        summary="Append an entry to an agent's log (alias of POST /soma/agents/{id}/log).",
    ),
    api(
        "/agents/{id:int}/logs",
        logs,
        query=LOGS,
        tag=T,
        cost=1,
        summary="An agent's log, newest first (alias of /soma/agents/{id}/logs).",
    ),
    api("/soma/groups", create_group, methods=("POST",), scope="write", body=GROUP, tag=T, ok=(201,)),
    api("/soma/groups", groups, tag=T),
    api(_G + "/members", add_member, methods=("POST",), scope="write", body=MEMBER, tag=T, ok=(200,)),
    api(_G + "/members", members, tag=T),
    api(_G + "/members/{agent_id:int}", remove_member, methods=("DELETE",), scope="write", tag=T),
    api("/soma/stats", stats, tag=T),
]
