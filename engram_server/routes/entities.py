"""Entity routes: CRUD, the memories that mention an entity, co-occurrence, relationships."""

from __future__ import annotations

from typing import Any

from engram_core.graph.entities import ENTITY, ENTITY_LIST, ENTITY_UPDATE, PAGE, RELATIONSHIP

from ..routing import ApiRequest, api


async def create(r: ApiRequest) -> Any:
    """Create an entity (201), or reuse the one with that name and type (200), and attach memories."""
    result = await r.engram.cognitive.entities.create(r.auth, r.body)
    return (201 if result["created"] else 200), result


async def list_(r: ApiRequest) -> Any:
    """The caller's entities."""
    return await r.engram.cognitive.entities.list(r.auth, r.query)


async def get(r: ApiRequest) -> Any:
    """One entity with its relationships."""
    return await r.engram.cognitive.entities.get(r.auth, r.path_int())


async def update(r: ApiRequest) -> Any:
    """Change an entity and attach more memories."""
    return await r.engram.cognitive.entities.update(r.auth, r.path_int(), r.body)


async def delete(r: ApiRequest) -> Any:
    """Delete an entity."""
    return await r.engram.cognitive.entities.delete(r.auth, r.path_int())


async def memories(r: ApiRequest) -> Any:
    """Memories that mention an entity."""
    return await r.engram.cognitive.entities.memories(r.auth, r.path_int(), r.query)


async def cooccurrences(r: ApiRequest) -> Any:
    """Entities mentioned in the same memories as this one."""
    return await r.engram.cognitive.entities.cooccurrences(r.auth, r.path_int(), r.query)


async def relate(r: ApiRequest) -> Any:
    """Create a typed relationship between two entities."""
    return 201, await r.engram.cognitive.entities.relate(r.auth, r.body)


async def of_memory(r: ApiRequest) -> Any:
    """Entities attached to a memory."""
    return await r.engram.cognitive.entities.of_memory(r.auth, r.path_int())


_ID = "/entities/{id:int}"
routes = [
    api("/entities", create, methods=("POST",), scope="write", body=ENTITY, tag="entities", ok=(201, 200)),
    api("/entities", list_, query=ENTITY_LIST, tag="entities"),
    api(_ID, get, tag="entities"),
    api(_ID, update, methods=("PUT",), scope="write", body=ENTITY_UPDATE, tag="entities"),
    api(_ID, delete, methods=("DELETE",), scope="write", tag="entities"),
    api(_ID + "/memories", memories, query=PAGE, tag="entities"),
    api(_ID + "/cooccurrences", cooccurrences, query=PAGE, tag="entities"),
    api(
        "/entity-relationships", relate, methods=("POST",), scope="write", body=RELATIONSHIP, tag="entities", ok=(201,)
    ),
    api("/memory/{id:int}/entities", of_memory, tag="entities"),
]
