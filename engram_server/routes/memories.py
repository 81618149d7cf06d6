"""Memory core routes: store, get, list, update, tags, lifecycle, trash, versions."""

from __future__ import annotations

from typing import Any

from engram_core.memories.schemas import FORGET, LIST, STORE, TAGS, TRASH, UPDATE
from engram_core.settings import Settings

from ..routing import ApiRequest, api


def store_limit(settings: Settings) -> int:
    """The store and update routes' body cap: ENGRAM_MAX_STORE_BODY_BYTES."""
    return settings.max_store_body_bytes


async def store(r: ApiRequest) -> Any:
    """Store a memory (201; a near-duplicate stores nothing and answers 200 with the existing id)."""
    result = await r.engram.memories.store(r.auth, r.body)
    return (201 if result["stored"] else 200), result


async def get(r: ApiRequest) -> Any:
    """Get one memory (counts an access)."""
    return await r.engram.memories.get(r.auth, r.path_int())


async def delete(r: ApiRequest) -> Any:
    """Move a memory to the trash."""
    return await r.engram.memories.delete(r.auth, r.path_int())


async def list_(r: ApiRequest) -> Any:
    """List latest memories, newest first."""
    return await r.engram.memories.list(r.auth, r.query)


async def update(r: ApiRequest) -> Any:
    """Make a new version of a memory."""
    return await r.engram.memories.update(r.auth, r.path_int(), r.body)


async def tags(r: ApiRequest) -> Any:
    """Replace a memory's tags."""
    return await r.engram.memories.replace_tags(r.auth, r.path_int(), r.body)


async def forget(r: ApiRequest) -> Any:
    """Forget a memory (excluded from reads and search, restorable)."""
    return await r.engram.memories.forget(r.auth, r.path_int(), r.body)


async def archive(r: ApiRequest) -> Any:
    """Archive a memory."""
    return await r.engram.memories.archive(r.auth, r.path_int())


async def unarchive(r: ApiRequest) -> Any:
    """Unarchive a memory."""
    return await r.engram.memories.unarchive(r.auth, r.path_int())


async def restore(r: ApiRequest) -> Any:
    """Restore a memory from the trash or from being forgotten."""
    return await r.engram.memories.restore(r.auth, r.path_int())


async def purge(r: ApiRequest) -> Any:
    """Delete a memory and all its versions for good, from every table and index."""
    return await r.engram.memories.purge(r.auth, r.path_int())


async def trash(r: ApiRequest) -> Any:
    """Memories in the trash."""
    return await r.engram.memories.trash(r.auth, r.query)


async def versions(r: ApiRequest) -> Any:
    """The version chain of a memory."""
    return await r.engram.memories.versions(r.auth, r.path_int())


async def all_tags(r: ApiRequest) -> Any:
    """Tags of the caller's memories with counts."""
    return await r.engram.memories.tags(r.auth)


async def me_stats(r: ApiRequest) -> Any:
    """Counts of the caller's memories."""
    return await r.engram.memories.user_stats(r.auth)


_ID = "/memory/{id:int}"
routes = [
    *(api(p, store, methods=("POST",), scope="write", body=STORE, max_body=store_limit, ok=(201, 200), cost=2)
      for p in ("/store", "/memory", "/memories")),
    api("/memory/trash", trash, query=TRASH),
    api(_ID, get),
    api(_ID, delete, methods=("DELETE",), scope="write"),
    api("/list", list_, query=LIST),
    api(_ID + "/update", update, methods=("POST",), scope="write", body=UPDATE, max_body=store_limit, cost=2),
    api(_ID + "/tags", tags, methods=("PUT",), scope="write", body=TAGS),
    api(_ID + "/forget", forget, methods=("POST",), scope="write", body=FORGET),
    api(_ID + "/archive", archive, methods=("POST",), scope="write"),
    api(_ID + "/unarchive", unarchive, methods=("POST",), scope="write"),
    api(_ID + "/restore", restore, methods=("POST",), scope="write"),
    api(_ID + "/purge", purge, methods=("POST",), scope="write"),
    api("/versions/{id:int}", versions),
    api("/tags", all_tags),
    api("/me/stats", me_stats),
]  # fmt: skip
