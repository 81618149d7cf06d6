"""Project routes: CRUD and membership of memories."""

from __future__ import annotations

from typing import Any

from engram_core.organize.projects import PROJECT, PROJECT_LIST, PROJECT_UPDATE

from ..routing import ApiRequest, api


async def create(r: ApiRequest) -> Any:
    """Create a project."""
    return 201, await r.engram.cognitive.projects.create(r.auth, r.body)


async def list_(r: ApiRequest) -> Any:
    """The caller's projects."""
    return await r.engram.cognitive.projects.list(r.auth, r.query)


async def get(r: ApiRequest) -> Any:
    """One project with its memories."""
    return await r.engram.cognitive.projects.get(r.auth, r.path_int())


async def update(r: ApiRequest) -> Any:
    """Change a project."""
    return await r.engram.cognitive.projects.update(r.auth, r.path_int(), r.body)


async def delete(r: ApiRequest) -> Any:
    """Delete a project (its memories stay)."""
    return await r.engram.cognitive.projects.delete(r.auth, r.path_int())


async def add_memory(r: ApiRequest) -> Any:
    """Put a memory in a project."""
    return await r.engram.cognitive.projects.add_memory(r.auth, r.path_int(), r.path_int("mid"))


async def remove_memory(r: ApiRequest) -> Any:
    """Take a memory out of a project."""
    return await r.engram.cognitive.projects.remove_memory(r.auth, r.path_int(), r.path_int("mid"))


_ID = "/projects/{id:int}"
routes = [
    api("/projects", create, methods=("POST",), scope="write", body=PROJECT, tag="projects", ok=(201,)),
    api("/projects", list_, query=PROJECT_LIST, tag="projects"),
    api(_ID, get, tag="projects"),
    api(_ID, update, methods=("PUT",), scope="write", body=PROJECT_UPDATE, tag="projects"),
    api(_ID, delete, methods=("DELETE",), scope="write", tag="projects"),
    api(_ID + "/memories/{mid:int}", add_memory, methods=("PUT",), scope="write", tag="projects"),
    api(_ID + "/memories/{mid:int}", remove_memory, methods=("DELETE",), scope="write", tag="projects"),
]
