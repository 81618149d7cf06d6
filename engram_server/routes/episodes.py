"""Episode routes: start, list, read, patch, append memories, finalize."""

from __future__ import annotations

from typing import Any

from engram_core.organize.episodes import EPISODE, EPISODE_LIST, EPISODE_MEMORIES, EPISODE_PATCH, FINALIZE

from ..routing import ApiRequest, api


async def create(r: ApiRequest) -> Any:
    """Start an episode."""
    return 201, await r.engram.cognitive.episodes.create(r.auth, r.body)


async def list_(r: ApiRequest) -> Any:
    """The caller's episodes, newest first."""
    return await r.engram.cognitive.episodes.list(r.auth, r.query)


async def get(r: ApiRequest) -> Any:
    """One episode with its memories in order."""
    return await r.engram.cognitive.episodes.get(r.auth, r.path_int())


async def patch(r: ApiRequest) -> Any:
    """Change an episode's title or summary."""
    return await r.engram.cognitive.episodes.patch(r.auth, r.path_int(), r.body)


async def add_memories(r: ApiRequest) -> Any:
    """Append memories to an open episode."""
    return await r.engram.cognitive.episodes.add_memories(r.auth, r.path_int(), r.body)


async def finalize(r: ApiRequest) -> Any:
    """Close an episode."""
    return await r.engram.cognitive.episodes.finalize(r.auth, r.path_int(), r.body)


_ID = "/episodes/{id:int}"
routes = [
    api("/episodes", create, methods=("POST",), scope="write", body=EPISODE, tag="episodes", ok=(201,)),
    api("/episodes", list_, query=EPISODE_LIST, tag="episodes"),
    api(_ID, get, tag="episodes"),
    api(_ID, patch, methods=("PATCH",), scope="write", body=EPISODE_PATCH, tag="episodes"),
    api(
        _ID + "/memories",
        add_memories,
        methods=("POST",),
        scope="write",
        body=EPISODE_MEMORIES,
        tag="episodes",
    ),
    api(_ID + "/finalize", finalize, methods=("POST",), scope="write", body=FINALIZE, tag="episodes"),
]
